using System.Globalization;
using System.Text;
using AbilisFast.Protocol.Data;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Spool;

namespace AbilisFast.Server.Submission;

/// <summary>What kind of mail the appliance itself submits.</summary>
internal enum InternalKind
{
    /// <summary>lsn:4, <c>abilisfast sendmail</c>, ban alerts: counted INT (IN when submitted, OUT when delivered).</summary>
    Internal,
    /// <summary>A failure notification: counted NOTIFY / NOTIFY-SUCC / NOTIFY-FAIL.</summary>
    Notification,
    /// <summary>A success or delay report: counted apart from the Abilis counters (<c>d m smtp</c>).</summary>
    Report,
}

/// <summary>Thrown when internal mail cannot be submitted; the message says why, in one line.</summary>
internal sealed class InternalMailException(string message) : Exception(message)
{
    /// <summary>Refused for good as a mail loop: more Received: fields than HOP-LIMIT allows (5.4.6).</summary>
    public bool TooManyHops { get; init; }
}

/// <summary>
/// The submission path for mail generated on the appliance: it goes into the same spool (durably,
/// group commit, before this returns) and QUEUE-OUT as mail received over SMTP.
/// </summary>
internal static class InternalMail
{
    /// <summary>
    /// Stores and queues a message. <paramref name="message"/> is the whole message (headers and
    /// body); bare LF or CR line ends are turned into CRLF. Returns the message id once it is durable.
    /// </summary>
    public static async Task<uint> SubmitAsync(SmtpContext context, string sender, IReadOnlyList<string> recipients,
        ReadOnlyMemory<byte> message, InternalKind kind, CancellationToken cancellationToken = default)
    {
        SpoolStore spool = context.Spool ?? throw new InternalMailException("no spool: internal mail cannot be stored in SINK mode");
        byte[] body = Check(context, sender, recipients, message.Span, kind);
        bool nonAscii = !Ascii.IsValid(sender) || recipients.Any(r => !Ascii.IsValid(r));
        bool eightBit = !Ascii.IsValid(body);
        EnvelopeFlags flags = EnvelopeFlags.Internal
            | (kind == InternalKind.Notification ? EnvelopeFlags.Notification : 0)
            | (kind == InternalKind.Report ? EnvelopeFlags.Report : 0)
            | (nonAscii ? EnvelopeFlags.SmtpUtf8 : 0)
            | (eightBit ? EnvelopeFlags.EightBitMime : 0);
        DateTimeOffset now = context.Time.GetUtcNow();
        uint id = spool.NextId();
        var resolved = new List<(string Address, RecipientFlags Flags)>();
        foreach (string recipient in recipients)
        {
            resolved.AddRange(Resolve(context, recipient, kind));
        }

        if (resolved.Count > ushort.MaxValue)
        {
            throw new InternalMailException("too many recipients once the aliases are expanded");
        }

        using var envelope = new EnvelopeBuilder();
        envelope.Begin(flags, now, null, Encoding.ASCII.GetBytes("localhost"), Encoding.UTF8.GetBytes(sender), body.Length);
        foreach ((string address, RecipientFlags recipientFlags) in resolved)
        {
            envelope.AddRecipient(Encoding.UTF8.GetBytes(address), recipientFlags);
        }

        SpoolWriter writer = spool.BeginMessage(id);
        long stored;
        try
        {
            string received = string.Create(CultureInfo.InvariantCulture,
                $"Received: from localhost\r\n\tby {context.Settings.HeloHost} (AbilisFast) with local id {id:X8};\r\n\t{now:ddd, dd MMM yyyy HH:mm:ss} +0000\r\n");
            writer.Write(Encoding.ASCII.GetBytes(received));
            writer.Write(body);
            await writer.CommitAsync(envelope.Written.Span, cancellationToken).ConfigureAwait(false);
            stored = writer.Length;
        }
        catch (IOException e)
        {
            if (kind == InternalKind.Internal)
            {
                context.Count(null, SmtpCounter.IntFail, Direction.In);
            }

            throw new InternalMailException($"the spool could not store the message: {e.Message}");
        }
        finally
        {
            writer.Dispose();
        }

        if (kind == InternalKind.Internal)
        {
            context.Count(null, SmtpCounter.IntSucc, Direction.In);
            context.Log.Write(LogTag.In, $"Receiving internal message: {SpoolIds.Format(id)}");
        }

        context.Queue.Enqueue(new QueuedMessage(id, stored, now.ToUnixTimeMilliseconds()));
        return id;
    }

    /// <summary>
    /// The envelope recipients one address of internal mail stands for, resolved as RCPT resolves
    /// it (aliases, users, bob+tag, postmaster/abuse/root, catch-alls), but never refused: the
    /// appliance's own mail always arrives. A local name no user or alias has gets a folder of its
    /// own, as LOCAL-RCPT:ANY gives one, except for a failure notification: that goes to the
    /// postmaster's mailbox instead (Postfix sends an undeliverable bounce to the postmaster too),
    /// so bounces to made-up local senders cannot create folders either.
    /// </summary>
    internal static IEnumerable<(string Address, RecipientFlags Flags)> Resolve(SmtpContext context, string recipient, InternalKind kind)
    {
        RecipientFlags flags = KindOf(context, recipient);
        Configuration.SmtpSettings settings = context.Settings;
        int at = recipient.LastIndexOf('@');
        if (flags == RecipientFlags.Relay || (!settings.StoreMb && at >= 0))
        {
            return [(recipient, flags)];
        }

        string domain = at < 0 ? string.Empty : recipient[(at + 1)..];
        int index = at < 0 ? -1 : settings.LocalDomainIndex(Encoding.UTF8.GetBytes(domain));
        byte[] local = Encoding.UTF8.GetBytes(at < 0 ? recipient : recipient[..at]);
        char[] canonical = new char[local.Length];
        ReadOnlySpan<char> name = canonical.AsSpan(0, Recipients.MailboxFolder.Canonicalize(local, canonical));
        Recipients.RecipientTable? table = context.Recipients?.For(settings);
        Recipients.RecipientTarget[]? targets = table?.Find(name, index < 0 ? null : settings.LocalDomainAscii(index), settings.RecipientDelimiter);
        if (targets is null && table is not null && kind == InternalKind.Notification && settings.LocalRcptKnown)
        {
            targets = table.Find("postmaster", null, string.Empty);
            context.Log.Write(LogTag.Port, $"Notification to {recipient}, which is no local user or alias: delivered to the postmaster's mailbox");
        }

        string suffix = index < 0 ? string.Empty : "@" + settings.LocalDomainAscii(index);
        if (targets is null)
        {
            string folder = Recipients.MailboxFolder.For(Recipients.MailboxFolder.WithoutExtension(name, settings.RecipientDelimiter));
            return [(folder + suffix, RecipientFlags.Local | RecipientFlags.Mailbox)];
        }

        return targets.Select(t => t.IsMailbox
            ? (t.Value + suffix, RecipientFlags.Local | RecipientFlags.Mailbox)
            : (t.Value, RecipientFlags.Relay));
    }

    /// <summary>
    /// Checks what is to be submitted as an SMTP server checks a transaction (addresses, MSG-MAXSIZE,
    /// HOP-LIMIT) and returns the text with CRLF line ends; throws <see cref="InternalMailException"/>.
    /// </summary>
    private static byte[] Check(SmtpContext context, string sender, IReadOnlyList<string> recipients, ReadOnlySpan<byte> message, InternalKind kind)
    {
        if (recipients.Count == 0)
        {
            throw new InternalMailException("no recipients");
        }

        if (recipients.Count > ushort.MaxValue)
        {
            throw new InternalMailException("too many recipients");
        }

        if (AddressSyntax.Check(sender, sender: true) is { } badSender)
        {
            throw new InternalMailException(badSender);
        }

        foreach (string recipient in recipients)
        {
            if (AddressSyntax.Check(recipient, sender: false) is { } badRecipient)
            {
                throw new InternalMailException(badRecipient);
            }
        }

        byte[] body = NormalizeLineEnds(message);
        if (body.Length > context.Settings.MsgMaxSizeBytes)
        {
            throw new InternalMailException($"message of {body.Length} bytes is over MSG-MAXSIZE ({context.Settings.MsgMaxSizeKiB} KiB)");
        }

        // The same hop limit as for SMTP: with the Received: field added below, at most HOP-LIMIT.
        var hops = default(ReceivedCounter);
        hops.Feed(body);
        if (hops.Count >= context.Settings.HopLimit)
        {
            context.Loops.HopLimit.Increment();
            if (kind == InternalKind.Internal)
            {
                context.Count(null, SmtpCounter.IntFail, Direction.In);
            }

            throw new InternalMailException($"5.4.6 too many hops ({hops.Count} Received: header fields, HOP-LIMIT {context.Settings.HopLimit}): mail loop?")
            {
                TooManyHops = true,
            };
        }

        return body;
    }

    /// <summary>Local (LOCAL-DOMAIN or postmaster) or relay, as RCPT TO decides.</summary>
    public static RecipientFlags KindOf(SmtpContext context, string recipient)
    {
        int at = recipient.LastIndexOf('@');
        if (at < 0 || context.Settings.IsLocalDomain(Encoding.UTF8.GetBytes(recipient[(at + 1)..])))
        {
            return RecipientFlags.Local;
        }

        return RecipientFlags.Relay;
    }

    /// <summary>CRLF line ends everywhere (a bare LF or a bare CR becomes CRLF); the text ends with CRLF.</summary>
    public static byte[] NormalizeLineEnds(ReadOnlySpan<byte> text)
    {
        var output = new List<byte>(text.Length + 64);
        for (int i = 0; i < text.Length; i++)
        {
            byte b = text[i];
            if (b == (byte)'\r')
            {
                output.Add((byte)'\r');
                output.Add((byte)'\n');
                if (i + 1 < text.Length && text[i + 1] == (byte)'\n')
                {
                    i++;
                }
            }
            else if (b == (byte)'\n')
            {
                output.Add((byte)'\r');
                output.Add((byte)'\n');
            }
            else
            {
                output.Add(b);
            }
        }

        if (output.Count < 2 || output[^1] != (byte)'\n')
        {
            output.Add((byte)'\r');
            output.Add((byte)'\n');
        }

        return [.. output];
    }
}
