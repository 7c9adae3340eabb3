using System.IO.Enumeration;

namespace AbilisFast.Server.Mailboxes;

internal sealed partial class MaildirStore
{
    /// <summary>How often at most the new/ and cur/ last-write times of one mailbox are read.</summary>
    private const long StatIntervalMilliseconds = 1000;

    /// <summary>
    /// A directory changed less than this long ago is rescanned at the next stat even if its
    /// last-write time did not move: coarse timestamps (jiffies, or whole seconds on some file
    /// systems) can hide a second change that falls in the same tick as the first.
    /// </summary>
    private static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(2);

    private static readonly EnumerationOptions ScanOptions = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = true,
        AttributesToSkip = 0,
        ReturnSpecialDirectories = false,
    };

    /// <summary>
    /// Cached usage of one mailbox. Every field is read and written under <see cref="Gate"/>: checks,
    /// rescans and the rename-and-count step of a delivery are serialised per mailbox, so a rescan
    /// never counts a file that a delivery is about to count again.
    /// </summary>
    private sealed class MailboxUsage
    {
        public MailboxUsage(string root, string name)
        {
            Name = name;
            Directory = Path.Combine(root, name);
            TmpDirectory = Path.Combine(Directory, "tmp");
            NewDirectory = Path.Combine(Directory, "new");
            CurDirectory = Path.Combine(Directory, "cur");
        }

        public string Name { get; }

        public string Directory { get; }

        public string TmpDirectory { get; }

        public string NewDirectory { get; }

        public string CurDirectory { get; }

        public Lock Gate { get; } = new();

        /// <summary>Bytes and messages in new/ and cur/: last scan plus our own deliveries since.</summary>
        public long Bytes;

        public int Mails;

        /// <summary>Deliveries admitted and still being written: they count against the limits.</summary>
        public long PendingBytes;

        public int PendingMails;

        /// <summary>Last-write times of new/ and cur/ when last scanned (year 1601 when missing).</summary>
        public DateTime NewStamp;

        public DateTime CurStamp;

        /// <summary>Rescan at the next stat regardless of the stamps (recent change, our own delivery, scan failure).</summary>
        public bool Dirty;

        public bool Loaded;

        /// <summary>Clock value (ms) before which the directories are not stat'ed again.</summary>
        public long NextStat;

        /// <summary>This process has checked the folders' modes and swept tmp/ (see EnsureDirectories).</summary>
        public volatile bool Prepared;

        /// <summary>Guards <see cref="PriorKeys"/> (a listing can take a while: not under <see cref="Gate"/>).</summary>
        public Lock PriorGate { get; } = new();

        /// <summary>Delivery keys of recovered messages found in new/ and cur/, with their file; listed once, on first need.</summary>
        public Dictionary<string, string>? PriorKeys;
    }

    /// <summary>Brings the cached usage up to date under the once-per-second rule. Caller holds the gate.</summary>
    private void RefreshLocked(MailboxUsage usage)
    {
        long now = _clockMilliseconds();
        if (usage.Loaded && now < usage.NextStat)
        {
            return;
        }

        usage.NextStat = now + StatIntervalMilliseconds;
        if (usage.Loaded && !usage.Dirty
            && Stamp(usage.NewDirectory) == usage.NewStamp
            && Stamp(usage.CurDirectory) == usage.CurStamp)
        {
            return;
        }

        ScanLocked(usage);
    }

    /// <summary>Recounts new/ and cur/ from disk. Caller holds the gate.</summary>
    private static void ScanLocked(MailboxUsage usage)
    {
        // Stamps first: a change during the listing then shows up as a changed stamp next time.
        DateTime newStamp = Stamp(usage.NewDirectory);
        DateTime curStamp = Stamp(usage.CurDirectory);
        try
        {
            (long newBytes, int newMails) = CountFiles(usage.NewDirectory);
            (long curBytes, int curMails) = CountFiles(usage.CurDirectory);
            usage.Bytes = newBytes + curBytes;
            usage.Mails = newMails + curMails;
            usage.NewStamp = newStamp;
            usage.CurStamp = curStamp;
            DateTime settled = DateTime.UtcNow - SettleTime;
            usage.Dirty = newStamp > settled || curStamp > settled;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Keep the previous counts (zero on first load) and try again at the next stat.
            usage.Dirty = true;
        }

        usage.Loaded = true;
    }

    /// <summary>
    /// Last-write time of a directory; year 1601 when it is missing. A path the file system refuses
    /// (name too long, no permission) reads as missing too: a room check never throws, and such a
    /// mailbox cannot receive mail anyway (the delivery reports the error).
    /// </summary>
    private static DateTime Stamp(string directory)
    {
        try
        {
            return Directory.GetLastWriteTimeUtc(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return DateTime.MinValue;
        }
    }

    /// <summary>Size and number of the messages in one Maildir subdirectory (dot files and subdirectories skipped).</summary>
    private static (long Bytes, int Mails) CountFiles(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return (0, 0);
        }

        FileSystemEnumerable<long> sizes = new(directory, static (ref FileSystemEntry entry) => entry.Length, ScanOptions)
        {
            ShouldIncludePredicate = static (ref FileSystemEntry entry) =>
                !entry.IsDirectory && !entry.FileName.StartsWith('.'),
        };

        long bytes = 0;
        int mails = 0;
        foreach (long size in sizes)
        {
            bytes += size;
            mails++;
        }

        return (bytes, mails);
    }
}
