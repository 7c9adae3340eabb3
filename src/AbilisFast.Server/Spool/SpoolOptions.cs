namespace AbilisFast.Server.Spool;

internal sealed class SpoolOptions
{
    /// <summary>Preallocated size of each segment file.</summary>
    public long SegmentSize { get; set; } = 64L << 20;

    /// <summary>Maximum body bytes per Data record (the writer's buffer size).</summary>
    public int FragmentSize { get; set; } = 16 * 1024;

    /// <summary>When false, no fdatasync/fsync is issued (benchmarks); everything else is unchanged.</summary>
    public bool Fsync { get; set; } = true;

    /// <summary>Free space that must remain after a new segment is allocated.</summary>
    public long MinFreeBytes { get; set; } = 64L << 20;

    /// <summary>Receives one line per notable event (recovery problems, quarantine, deletion failures).</summary>
    public Action<string>? Log { get; set; }

    /// <summary>Replaces the statvfs free-space probe (tests).</summary>
    public Func<long>? FreeSpaceOverride { get; set; }

    /// <summary>
    /// Fault injection (tests): called with the byte count of each append; a value &gt;= 0 makes the spool
    /// write only that many bytes and then fail with an IOException.
    /// </summary>
    internal Func<int, int>? WriteFault { get; set; }

    /// <summary>Test hook: runs on the committer thread before each sync round.</summary>
    internal Action? BeforeSyncRound { get; set; }

    internal void Validate()
    {
        if (FragmentSize < 64)
        {
            throw new ArgumentOutOfRangeException(nameof(FragmentSize), "FragmentSize must be at least 64 bytes.");
        }

        if (SegmentSize < 4096 || SegmentSize < (2L * SpoolRecord.SizeOf(FragmentSize)) + 4096 || SegmentSize > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(SegmentSize), "SegmentSize must be >= 4 KiB, >= 2 fragments + 4 KiB and < 2 GiB.");
        }
    }
}
