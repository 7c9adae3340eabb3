using System.Collections.Concurrent;
using System.IO.Enumeration;

namespace AbilisFast.Server.Mailboxes;

/// <summary>
/// Exactly once across crashes. A delivery is done when its file is renamed into new/; the spool
/// learns it a moment later (a Retry or Done record). A crash between the two brings the message
/// back at the next start with the recipient still pending. Every delivery with a key puts that
/// key in its file name, so a recovered message first looks for its key in new/ and cur/ (where a
/// mail reader may have moved it and added flags): found means done, and nothing is written again.
/// </summary>
internal sealed partial class MaildirStore
{
    private readonly ConcurrentDictionary<uint, byte> _recovered = new();

    /// <summary>When this store was made: tmp/ files of ours older than that belong to an earlier process.</summary>
    private readonly DateTime _created = DateTime.UtcNow;

    /// <summary>
    /// Tells the store that the message <paramref name="queueId"/> was found in the spool at start:
    /// an earlier process may have delivered some of its recipients just before it died.
    /// Called for every recovered message before deliveries begin.
    /// </summary>
    public void ExpectRedelivery(uint queueId) => _recovered.TryAdd(queueId, 0);

    /// <summary>The message left the spool: its deliveries no longer need looking for.</summary>
    public void Forget(uint queueId) => _recovered.TryRemove(queueId, out _);

    private bool IsExpectedRedelivery(uint queueId) => !_recovered.IsEmpty && _recovered.ContainsKey(queueId);

    /// <summary>
    /// The name of the file (in new/ or cur/) that holds the delivery <paramref name="keyText"/>, or
    /// null. The first call per mailbox lists new/ and then cur/ once and keeps the keys of the
    /// recovered messages found there: a file that was in new/ when the listing of new/ began is
    /// seen, and if a reader moved it to cur/ meanwhile, the listing of cur/ (which starts later)
    /// sees it there. Deliveries made by this process need no listing (the spool's state records
    /// them before the next attempt).
    /// </summary>
    private string? FindDelivered(MailboxUsage usage, string keyText)
    {
        Dictionary<string, string> keys;
        lock (usage.PriorGate)
        {
            keys = usage.PriorKeys ??= ListKeys(usage);
        }

        return keys.TryGetValue(keyText, out string? name) ? name : null;
    }

    private Dictionary<string, string> ListKeys(MailboxUsage usage)
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string sub in (ReadOnlySpan<string>)["new", "cur"])
        {
            string directory = Path.Combine(usage.Directory, sub);
            if (!Directory.Exists(directory))
            {
                continue;
            }

            var names = new FileSystemEnumerable<string>(directory, static (ref FileSystemEntry entry) => entry.FileName.ToString(), ScanOptions)
            {
                ShouldIncludePredicate = static (ref FileSystemEntry entry) => !entry.IsDirectory && entry.FileName.Contains("_A", StringComparison.Ordinal),
            };

            foreach (string name in names)
            {
                if (MaildirName.KeyOf(name) is { } key && IsRecoveredKey(key))
                {
                    keys.TryAdd(key, sub + "/" + name);
                }
            }
        }

        return keys;
    }

    /// <summary>Only keys of recovered messages are kept (the queue id is the key's first 8 hex digits).</summary>
    private bool IsRecoveredKey(string key) =>
        key.Length > 8
        && uint.TryParse(key.AsSpan(0, 8), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out uint id)
        && _recovered.ContainsKey(id);

    /// <summary>
    /// Creates tmp/, new/ and cur/ when missing (mode 0700, the mailbox folder and the mailboxes
    /// folder too); a newly created mailbox is made durable in its parents. The first time a
    /// process uses a mailbox it also takes group and other permissions away from folders an
    /// earlier version made (0755), and removes tmp/ files that an earlier process of ours left
    /// when it died in the middle of a delivery.
    /// </summary>
    private void EnsureDirectories(MailboxUsage usage)
    {
        if (usage.Prepared && Directory.Exists(usage.TmpDirectory) && Directory.Exists(usage.NewDirectory) && Directory.Exists(usage.CurDirectory))
        {
            return;
        }

        bool rootExisted = Directory.Exists(Root);
        bool mailboxExisted = Directory.Exists(usage.Directory);
        CreatePrivateDirectory(Root);
        CreatePrivateDirectory(usage.Directory);
        CreatePrivateDirectory(usage.TmpDirectory);
        CreatePrivateDirectory(usage.NewDirectory);
        CreatePrivateDirectory(usage.CurDirectory);
        MaildirNative.FSyncDirectory(usage.Directory);
        if (!mailboxExisted)
        {
            MaildirNative.FSyncDirectory(Root);
        }

        if (!rootExisted && Path.GetDirectoryName(Root) is { } parent)
        {
            MaildirNative.FSyncDirectory(parent);
        }

        if (!usage.Prepared)
        {
            SweepTmp(usage);
            usage.Prepared = true;
        }
    }

    /// <summary>Makes the folder when missing, and leaves it with mode 0700 whatever the umask or an earlier version did.</summary>
    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            _ = Directory.CreateDirectory(path);
            return;
        }

        _ = Directory.CreateDirectory(path, DirectoryMode);
        if (File.GetUnixFileMode(path) != DirectoryMode)
        {
            File.SetUnixFileMode(path, DirectoryMode);
        }
    }

    /// <summary>Removes tmp/ files of ours from an earlier process (another pid, or older than this store).</summary>
    private void SweepTmp(MailboxUsage usage)
    {
        try
        {
            foreach (string path in Directory.EnumerateFiles(usage.TmpDirectory))
            {
                string name = Path.GetFileName(path);
                // Another pid: that process is gone (one server per WDIR). Our pid but older than this
                // store: a process before a reboot that had the same pid.
                if (MaildirName.IsOurs(name, out int pid)
                    && (pid != Environment.ProcessId || File.GetLastWriteTimeUtc(path) < _created - TimeSpan.FromSeconds(2)))
                {
                    _ = TryDelete(path);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only tidying: a reader removes tmp/ files older than 36 hours anyway.
        }
    }
}
