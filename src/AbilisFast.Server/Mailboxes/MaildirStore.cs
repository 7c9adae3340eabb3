using System.Collections.Concurrent;
using System.Text;
using System.Text.Unicode;

namespace AbilisFast.Server.Mailboxes;

/// <summary>Whether a local mailbox has room for one more message, and which limit is reached if not.</summary>
internal enum MailboxRoom
{
    Ok,

    /// <summary>MB-MAXSIZE: the message would take the mailbox over its byte limit.</summary>
    FullBySize,

    /// <summary>MB-MAXMAILS: the mailbox already holds the maximum number of messages.</summary>
    FullByCount,
}

/// <summary>Why a delivery could not write its file.</summary>
internal enum MaildirFailure
{
    None,

    /// <summary>The file system under the mailboxes is full (ENOSPC).</summary>
    NoSpace,

    /// <summary>The mailbox owner's disk quota is used up (EDQUOT).</summary>
    Quota,

    /// <summary>Any other error (permissions, a name the file system refuses, a short body, EIO ...).</summary>
    Other,
}

/// <summary>
/// Outcome of <see cref="MaildirStore.Deliver"/>. <see cref="Room"/> is not Ok when the mailbox was
/// full (nothing written); <see cref="Error"/> is set, with its <see cref="Failure"/>, when an I/O
/// error stopped the delivery. <see cref="FileName"/> is the name of the file in new/ when
/// <see cref="Delivered"/>; with <see cref="AlreadyThere"/> it is the file an earlier process wrote
/// for the same delivery (<c>new/NAME</c> or <c>cur/NAME</c>), found instead of writing it twice.
/// </summary>
internal readonly record struct MaildirDelivery(MailboxRoom Room, bool Delivered, string? FileName, string? Error)
{
    public MaildirFailure Failure { get; init; }

    public bool AlreadyThere { get; init; }

    public static MaildirDelivery Failed(MaildirFailure failure, string error) =>
        new(MailboxRoom.Ok, false, null, error) { Failure = failure };
}

/// <summary>
/// Local mailboxes in Maildir format under one root (WDIR/mailboxes): one folder per mailbox (a
/// user's name, see <see cref="Recipients.MailboxFolder"/>) with tmp/, new/ and cur/ (folders 0700, files 0600). A message is stored with LF line ends, written
/// to tmp/, fsynced, renamed into new/ under a name with its size (<see cref="MaildirName"/>) and
/// new/ is fsynced, so a delivered message survives a crash; the delivery key in the name makes a
/// delivery that is repeated after a crash find its first copy (<see cref="ExpectRedelivery"/>).
/// </summary>
/// <remarks>
/// Usage (bytes and messages in new/ and cur/) is cached per mailbox and updated by our own
/// deliveries. The owner's mail client may delete or move files, so the cache is checked against the
/// last-write times of new/ and cur/ at most once per second per mailbox and rescanned when they
/// changed, or when they are so recent that a change within the file system's timestamp granularity
/// could go unseen. Between rescans, <see cref="CheckRoom(ReadOnlySpan{byte}, long)"/> allocates nothing.
/// </remarks>
internal sealed partial class MaildirStore
{
    /// <summary>Folder names up to this many UTF-8 bytes are checked on the stack; longer ones take the string path.</summary>
    private const int StackNameChars = 256;

    /// <summary>
    /// Above this many cached mailboxes, names whose mailbox does not exist are no longer cached, so
    /// RCPT TO with made-up local parts cannot grow the cache without bound.
    /// </summary>
    internal const int MaxCachedMailboxes = 10_000;

    private readonly Func<(long MaxBytes, int MaxMails)> _limits;
    private readonly Func<long> _clockMilliseconds;
    private readonly ConcurrentDictionary<string, MailboxUsage> _mailboxes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MailboxUsage>.AlternateLookup<ReadOnlySpan<char>> _byName;

    /// <param name="root">The mailboxes directory (WDIR/mailboxes); created on the first delivery.</param>
    /// <param name="limits">Live MB-MAXSIZE (bytes) and MB-MAXMAILS, read on every check; both at least 1.</param>
    public MaildirStore(string root, Func<(long MaxBytes, int MaxMails)> limits)
        : this(root, limits, static () => Environment.TickCount64)
    {
    }

    /// <summary>Test seam: <paramref name="clockMilliseconds"/> replaces <see cref="Environment.TickCount64"/> for the once-per-second stat rule.</summary>
    internal MaildirStore(string root, Func<(long MaxBytes, int MaxMails)> limits, Func<long> clockMilliseconds)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(clockMilliseconds);
        Root = Path.GetFullPath(root);
        _limits = limits;
        _clockMilliseconds = clockMilliseconds;
        _byName = _mailboxes.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Full path of the mailboxes directory.</summary>
    public string Root { get; }

    /// <summary>
    /// Would a message of <paramref name="incomingSize"/> bytes fit into the mailbox folder
    /// <paramref name="folder"/> (a name from <see cref="Recipients.MailboxFolder"/>)? 0 means the size
    /// is unknown: then only the message count and a mailbox with no byte left make it full.
    /// </summary>
    public MailboxRoom CheckRoom(string folder, long incomingSize)
    {
        MailboxUsage? usage = _byName.TryGetValue(folder.AsSpan(), out MailboxUsage? found) ? found : AddForCheck(folder);
        return CheckRoom(usage, incomingSize);
    }

    /// <summary>
    /// <see cref="CheckRoom(string, long)"/> from the folder name in UTF-8, as the SMTP session holds
    /// it. Allocates nothing once the mailbox is cached (RCPT path).
    /// </summary>
    public MailboxRoom CheckRoom(ReadOnlySpan<byte> folderUtf8, long incomingSize)
    {
        if (folderUtf8.Length > StackNameChars)
        {
            return CheckRoom(Encoding.UTF8.GetString(folderUtf8), incomingSize);
        }

        // One UTF-16 unit at most per UTF-8 byte, so the buffer always holds the decoded name.
        Span<char> chars = stackalloc char[StackNameChars];
        _ = Utf8.ToUtf16(folderUtf8, chars, out _, out int written, replaceInvalidSequences: true);
        ReadOnlySpan<char> name = chars[..written];
        MailboxUsage? usage = _byName.TryGetValue(name, out MailboxUsage? found) ? found : AddForCheck(new string(name));
        return CheckRoom(usage, incomingSize);
    }

    /// <summary>Bytes (as stored, LF line ends) and message count currently in the mailbox (new/ and cur/, not deliveries in progress).</summary>
    public (long Bytes, int Mails) Usage(string folder)
    {
        MailboxUsage usage = GetOrAdd(folder);
        lock (usage.Gate)
        {
            RefreshLocked(usage);
            return (usage.Bytes, usage.Mails);
        }
    }

    private MailboxRoom CheckRoom(MailboxUsage? usage, long incomingSize)
    {
        if (usage is null)
        {
            // Not cached (cache full) and no such mailbox on disk: it is empty.
            return Room(0, 0, incomingSize);
        }

        lock (usage.Gate)
        {
            RefreshLocked(usage);
            return Room(usage.Bytes + usage.PendingBytes, usage.Mails + usage.PendingMails, incomingSize);
        }
    }

    private MailboxRoom Room(long usedBytes, int usedMails, long incomingSize)
    {
        (long maxBytes, int maxMails) = _limits();
        bool overSize = incomingSize > 0 ? incomingSize > maxBytes - usedBytes : usedBytes >= maxBytes;
        if (overSize)
        {
            return MailboxRoom.FullBySize;
        }

        return usedMails >= maxMails ? MailboxRoom.FullByCount : MailboxRoom.Ok;
    }

    private MailboxUsage GetOrAdd(string name) =>
        _mailboxes.GetOrAdd(name, static (n, root) => new MailboxUsage(root, n), Root);

    /// <summary>First check of a name: cache it, unless the cache is full and the mailbox does not exist.</summary>
    private MailboxUsage? AddForCheck(string name)
    {
        if (_mailboxes.Count >= MaxCachedMailboxes && !Directory.Exists(Path.Combine(Root, name)))
        {
            return null;
        }

        return GetOrAdd(name);
    }
}
