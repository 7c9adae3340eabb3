using Microsoft.Win32.SafeHandles;

namespace AbilisFast.Server.Spool;

/// <summary>One preallocated journal file. All mutable fields are guarded by the spool lock.</summary>
internal sealed class SpoolSegment(int number, string path, SafeFileHandle handle, long size)
{
    public int Number { get; } = number;

    public string Path { get; } = path;

    public SafeFileHandle Handle { get; } = handle;

    public long Size { get; } = size;

    /// <summary>Committed, not yet done messages with at least one record here.</summary>
    public int Live { get; set; }

    /// <summary>In-flight writers and open body readers using this segment.</summary>
    public int Pins { get; set; }

    public bool Deleted { get; set; }

    /// <summary>Written since the committer last collected it for a sync.</summary>
    public bool Dirty { get; set; }

    /// <summary>A sync of this segment failed: nothing appended to it since its last good sync is trusted, nothing more is appended.</summary>
    public bool SyncFailed { get; set; }

    /// <summary>
    /// Older segments holding records of messages whose Done record is here; this segment must outlive them,
    /// otherwise a crash could resurrect those messages.
    /// </summary>
    public List<SpoolSegment>? DoneTargets { get; private set; }

    public void AddDoneTarget(SpoolSegment target)
    {
        DoneTargets ??= [];
        if (!DoneTargets.Contains(target))
        {
            DoneTargets.Add(target);
        }
    }

    public bool DoneTargetsGone()
    {
        if (DoneTargets is null)
        {
            return true;
        }

        DoneTargets.RemoveAll(static t => t.Deleted);
        return DoneTargets.Count == 0;
    }

    public static string FileName(int number) => $"seg-{number:D8}.jnl";

    public static bool TryParseFileName(string fileName, out int number)
    {
        number = 0;
        return fileName.Length == 16
            && fileName.StartsWith("seg-", StringComparison.Ordinal)
            && fileName.EndsWith(".jnl", StringComparison.Ordinal)
            && int.TryParse(fileName.AsSpan(4, 8), System.Globalization.NumberStyles.None, null, out number)
            && number > 0;
    }
}
