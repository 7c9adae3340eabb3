namespace AbilisFast.Server.Access;

/// <summary>
/// Tells whether a file changed since it was last read, from its last-write time: one stat, no
/// allocation. A file written again within <see cref="SettleTime"/> of the read can keep the same
/// time stamp (file systems stamp with a coarse clock), so until then every check says "changed"
/// and the caller reads it again: a few extra reads right after a change, never a missed change.
/// </summary>
internal sealed class WatchedFile(string path)
{
    /// <summary>How long after a change a file is read again at every check.</summary>
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(2);

    private DateTime _stamp = DateTime.MaxValue;
    private DateTime _readAt;

    public string Path { get; } = path;

    /// <summary>True when the file is new, gone, changed, or changed so recently that the stamp cannot tell.</summary>
    public bool Changed()
    {
        DateTime stamp = Stamp();
        return stamp != _stamp || (stamp != DateTime.MinValue && _readAt - stamp < SettleTime);
    }

    /// <summary>Call just before reading the file: the stamp the read belongs to.</summary>
    public void MarkRead()
    {
        _stamp = Stamp();
        _readAt = DateTime.UtcNow;
    }

    /// <summary>Last-write time in UTC; <see cref="DateTime.MinValue"/> when the file is missing or unreadable.</summary>
    private DateTime Stamp()
    {
        try
        {
            // GetLastWriteTimeUtc allocates nothing (measured); a missing file gives the year 1601.
            DateTime stamp = File.GetLastWriteTimeUtc(Path);
            return stamp.Year <= 1601 ? DateTime.MinValue : stamp;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return DateTime.MinValue;
        }
    }
}
