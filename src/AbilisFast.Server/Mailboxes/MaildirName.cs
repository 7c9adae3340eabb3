using System.Globalization;
using System.Text;

namespace AbilisFast.Server.Mailboxes;

/// <summary>
/// What one local delivery is: a spooled message (queue id and the time it was received, which
/// together never repeat, even when a queue id comes back years later) and one of its recipients
/// (its index in the envelope and its address). Its <see cref="Text"/> goes into the Maildir file
/// name, so that after a crash a delivery can tell that its file is already in the mailbox.
/// </summary>
internal readonly record struct MaildirKey(uint QueueId, long ReceivedUnixMs, int Recipient, string Address)
{
    /// <summary>
    /// <c>&lt;queue id, 8 hex&gt;R&lt;recipient index&gt;H&lt;8 hex&gt;</c>, e.g. <c>84A582F6R0H1C0FFEE5</c>:
    /// the hash (32-bit FNV-1a) covers the receive time and the address, lower-cased.
    /// </summary>
    public string Text => string.Create(CultureInfo.InvariantCulture, $"{QueueId:X8}R{Recipient}H{Hash():X8}");

    private uint Hash()
    {
        const uint Prime = 16777619;
        uint hash = 2166136261;
        long received = ReceivedUnixMs;
        for (int i = 0; i < 8; i++)
        {
            hash = (hash ^ (byte)(received >> (8 * i))) * Prime;
        }

        foreach (byte b in Encoding.UTF8.GetBytes(Address.ToLowerInvariant()))
        {
            hash = (hash ^ b) * Prime;
        }

        return hash;
    }
}

/// <summary>
/// Maildir file names as the Maildir specification (cr.yp.to/proto/maildir.html) and Dovecot's
/// extension of it have them: <c>&lt;seconds&gt;.&lt;unique&gt;.&lt;host&gt;</c> in tmp/, and in new/
/// the same with <c>,S=&lt;size of the file&gt;,W=&lt;size with CRLF line ends&gt;</c> added. The
/// unique part is <c>M&lt;microseconds&gt;P&lt;pid&gt;Q&lt;counter&gt;</c> (Dovecot's letters), then
/// <c>_A&lt;key&gt;</c> when the delivery has a <see cref="MaildirKey"/>. A mail reader that moves
/// the file to cur/ keeps that base name and adds <c>:2,&lt;flags&gt;</c>.
/// </summary>
internal static class MaildirName
{
    /// <summary>Marks the delivery key in the unique part.</summary>
    private const string KeyMark = "_A";

    /// <summary>The host part: the machine name with '/' and ':' escaped as the specification asks.</summary>
    public static readonly string Host = EscapeHost(Environment.MachineName);

    private static long s_counter;

    /// <summary>A new base name for tmp/ (no size fields yet).</summary>
    public static string NewBase(string? key)
    {
        long counter = Interlocked.Increment(ref s_counter);
        long ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        long seconds = ticks / TimeSpan.TicksPerSecond;
        long micros = ticks % TimeSpan.TicksPerSecond / 10;
        return key is null
            ? string.Create(CultureInfo.InvariantCulture, $"{seconds}.M{micros}P{Environment.ProcessId}Q{counter}.{Host}")
            : string.Create(CultureInfo.InvariantCulture, $"{seconds}.M{micros}P{Environment.ProcessId}Q{counter}{KeyMark}{key}.{Host}");
    }

    /// <summary>The name in new/: the base name and the sizes (Dovecot's S= and W=).</summary>
    public static string WithSizes(string baseName, long storedSize, long virtualSize) =>
        string.Create(CultureInfo.InvariantCulture, $"{baseName},S={storedSize},W={virtualSize}");

    /// <summary>
    /// The delivery key in a file name from new/ or cur/ (whatever flags a reader added), or null
    /// when the name has none (another program's file, or one delivered without a key).
    /// </summary>
    public static string? KeyOf(string fileName)
    {
        ReadOnlySpan<char> unique = UniquePart(fileName);
        int mark = unique.IndexOf(KeyMark, StringComparison.Ordinal);
        return mark < 0 ? null : new string(unique[(mark + KeyMark.Length)..]);
    }

    /// <summary>
    /// True for a name this server makes on this host (<c>&lt;seconds&gt;.M&lt;µs&gt;P&lt;pid&gt;Q…</c>),
    /// with the pid of the process that made it.
    /// </summary>
    public static bool IsOurs(string fileName, out int pid)
    {
        pid = 0;
        ReadOnlySpan<char> unique = UniquePart(fileName);
        if (unique.Length < 2 || unique[0] != 'M')
        {
            return false;
        }

        int p = unique.IndexOf('P');
        int q = unique.IndexOf('Q');
        return p >= 2 && q > p + 1
            && !unique[1..p].ContainsAnyExceptInRange('0', '9')
            && int.TryParse(unique[(p + 1)..q], NumberStyles.None, CultureInfo.InvariantCulture, out pid)
            && HostPart(fileName).SequenceEqual(Host);
    }

    /// <summary>The part between the first and the second dot (empty when there is none).</summary>
    private static ReadOnlySpan<char> UniquePart(string fileName) => SplitAtDots(fileName, out _);

    /// <summary>The host part: after the second dot, up to the first ',' or ':'.</summary>
    private static ReadOnlySpan<char> HostPart(string fileName)
    {
        SplitAtDots(fileName, out ReadOnlySpan<char> rest);
        int end = rest.IndexOfAny(',', ':');
        return end < 0 ? rest : rest[..end];
    }

    /// <summary>
    /// The part between the first and the second dot, with what follows the second dot in
    /// <paramref name="rest"/>; both are empty when the name has fewer than two dots.
    /// </summary>
    private static ReadOnlySpan<char> SplitAtDots(string fileName, out ReadOnlySpan<char> rest)
    {
        rest = default;
        ReadOnlySpan<char> name = fileName;
        int first = name.IndexOf('.');
        if (first < 0)
        {
            return default;
        }

        ReadOnlySpan<char> afterFirst = name[(first + 1)..];
        int second = afterFirst.IndexOf('.');
        if (second < 0)
        {
            return default;
        }

        rest = afterFirst[(second + 1)..];
        return afterFirst[..second];
    }

    /// <summary>'/' becomes \057 and ':' \072 (the specification's rule); an empty name becomes "localhost".</summary>
    internal static string EscapeHost(string host)
    {
        string escaped = host.Replace("/", "\\057", StringComparison.Ordinal).Replace(":", "\\072", StringComparison.Ordinal);
        return escaped.Length == 0 ? "localhost" : escaped;
    }
}
