using AbilisFast.Protocol.Addressing;
using AbilisFast.Protocol.Esmtp;
using AbilisFast.Protocol.Replies;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Mailboxes;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Recipients;

namespace AbilisFast.Server.Sessions;

/// <summary>
/// Local recipients at RCPT: which mailbox (or relayed address) a local name stands for, the
/// refusal of unknown names under LOCAL-RCPT:KNOWN, and the session-log rows that say who sent
/// what to whom and why a recipient was refused. Nothing here allocates once the recipient table
/// is built and the mailbox's usage is cached.
/// </summary>
internal sealed partial class InSession
{
    /// <summary>Room for "folder@domain": a folder name, '@' and a domain of at most 255 octets.</summary>
    private const int StoredAddressMax = MailboxFolder.MaxLength + 1 + 256;

    /// <summary>RCPT commands accepted in this transaction (MAX-RCPT counts these, not the aliases' targets).</summary>
    private int _rcptCount;

    /// <summary>The first 452 for MAX-RCPT of a transaction is logged, not the thousands a flood may earn.</summary>
    private bool _tooManyLogged;

    /// <summary>WDIR/users and WDIR/aliases were checked for changes in this transaction.</summary>
    private bool _recipientsRefreshed;

    private void ResetRecipients()
    {
        _rcptCount = 0;
        _tooManyLogged = false;
        _recipientsRefreshed = false;
    }

    /// <summary>
    /// A recipient in LOCAL-DOMAIN (or the bare postmaster). With a mailbox here (STORE-MB:YES, and
    /// the bare postmaster always) the name is looked up: an alias adds its targets, a user (or
    /// bob+tag for bob) its mailbox, postmaster/abuse/root the first admin's mailbox; an unknown
    /// name gets 550 5.1.1 under LOCAL-RCPT:KNOWN and a folder of its own under ANY. Each mailbox
    /// is stored as FOLDER@DOMAIN (the LOCAL-DOMAIN in lower-case ASCII) with the Mailbox flag; where that differs from what the client
    /// wrote and it gave no ORCPT, ORCPT=rfc822;WRITTEN keeps the original for notifications
    /// (RFC 3461 4.2 allows adding it).
    /// </summary>
    private Step LocalRecipient(ReadOnlySpan<byte> rest, in ParsedPath path, DsnNotify notify, ReadOnlySpan<byte> originalRecipient)
    {
        SmtpSettings settings = _context.Settings;
        ReadOnlySpan<byte> written = path.Mailbox(rest);
        if (settings.Sink || (!settings.StoreMb && !path.IsPostmaster))
        {
            if (!settings.Sink && settings.RelayServer is null)
            {
                return RefuseRcpt(rest, SmtpReplies.NoLocalMailboxes);
            }

            // No mailboxes here: SERVER, the internal mail server, gets the address as written.
            _envelope.AddRecipient(written, RecipientFlags.Local, notify, originalRecipient);
            return RecipientAccepted();
        }

        Span<char> canonical = stackalloc char[PathParser.MaxLocalPartLength];
        ReadOnlySpan<char> name = canonical[..MailboxFolder.Canonicalize(path.LocalPart(rest), canonical)];
        int domainIndex = path.IsPostmaster ? -1 : settings.LocalDomainIndex(path.Domain(rest));
        string? domainAscii = domainIndex < 0 ? null : settings.LocalDomainAscii(domainIndex);
        RecipientTarget[]? targets = null;
        if (_context.Recipients is { } recipients)
        {
            targets = LookUp(recipients, settings, name, domainAscii);
            if (targets is null && settings.LocalRcptKnown)
            {
                _context.RecipientCounters.CountUnknownLocal();
                return RefuseRcpt(rest, SmtpReplies.UnknownLocalRecipient);
            }
        }

        Span<byte> orcpt = stackalloc byte[500];
        if (targets is null)
        {
            // LOCAL-RCPT:ANY (or no recipient table): a folder of its own, escaped so that no two
            // local parts share one.
            Span<byte> folder = stackalloc byte[MailboxFolder.MaxLength];
            int length = MailboxFolder.Format(MailboxFolder.WithoutExtension(name, settings.RecipientDelimiter), folder);
            if (_context.Mailboxes?.CheckRoom(folder[..length], _declaredSize) is { } room && room != MailboxRoom.Ok)
            {
                return RefuseRcpt(rest, SmtpReplies.MailboxFull);
            }

            AddMailbox(folder[..length], domainAscii, written, notify, originalRecipient, orcpt);
            return RecipientAccepted();
        }

        if (_envelope.RecipientCount + targets.Length > ushort.MaxValue)
        {
            return RefuseRcpt(rest, SmtpReplies.TooManyRecipients);
        }

        if (AllMailboxesFull(targets))
        {
            return RefuseRcpt(rest, SmtpReplies.MailboxFull);
        }

        foreach (RecipientTarget target in targets)
        {
            if (target.IsMailbox)
            {
                AddMailbox(target.Utf8, domainAscii, written, notify, originalRecipient, orcpt);
            }
            else
            {
                _envelope.AddRecipient(target.Utf8, RecipientFlags.Relay, notify,
                    originalRecipient.IsEmpty ? OriginalRecipient(written, orcpt) : originalRecipient);
            }
        }

        return RecipientAccepted();
    }

    /// <summary>
    /// What a local name stands for, or null when it is unknown. Two stats (WDIR/users,
    /// WDIR/aliases) at the first local RCPT of each transaction, no allocation: a user added,
    /// changed or deleted a moment ago counts for this transaction already (a changed file is read
    /// again first). Under LOCAL-RCPT:KNOWN a name not found is checked once more after a fresh
    /// stat, so the RCPT right after `abilisfast user` is never refused.
    /// </summary>
    private RecipientTarget[]? LookUp(LocalRecipients recipients, SmtpSettings settings, ReadOnlySpan<char> name, string? domainAscii)
    {
        if (!_recipientsRefreshed)
        {
            _recipientsRefreshed = true;
            recipients.Refresh();
        }

        RecipientTarget[]? targets = recipients.For(settings).Find(name, domainAscii, settings.RecipientDelimiter);
        if (targets is null && settings.LocalRcptKnown && recipients.Refresh())
        {
            targets = recipients.For(settings).Find(name, domainAscii, settings.RecipientDelimiter);
        }

        return targets;
    }

    /// <summary>
    /// True when every target is a mailbox and none has room for the declared size (452 4.2.2 at
    /// RCPT, as before for a single mailbox); a list with room somewhere is accepted and a full
    /// mailbox in it is deferred at delivery.
    /// </summary>
    private bool AllMailboxesFull(RecipientTarget[] targets)
    {
        if (_context.Mailboxes is not { } mailboxes)
        {
            return false;
        }

        foreach (RecipientTarget target in targets)
        {
            if (!target.IsMailbox || mailboxes.CheckRoom(target.Utf8, _declaredSize) == MailboxRoom.Ok)
            {
                return false;
            }
        }

        return targets.Length > 0;
    }

    /// <summary>
    /// Adds FOLDER@DOMAIN with the Local and Mailbox flags, DOMAIN being the LOCAL-DOMAIN the address
    /// named, in lower-case ASCII (A-labels for IDN); FOLDER alone for the bare postmaster.
    /// </summary>
    private void AddMailbox(ReadOnlySpan<byte> folder, string? domainAscii, ReadOnlySpan<byte> written,
        DsnNotify notify, ReadOnlySpan<byte> originalRecipient, Span<byte> orcptBuffer)
    {
        Span<byte> stored = stackalloc byte[StoredAddressMax];
        int n = folder.Length;
        folder.CopyTo(stored);
        if (domainAscii is not null)
        {
            stored[n++] = (byte)'@';
            n += System.Text.Encoding.ASCII.GetBytes(domainAscii.AsSpan(0, Math.Min(domainAscii.Length, stored.Length - n)), stored[n..]);
        }

        ReadOnlySpan<byte> address = stored[..n];
        ReadOnlySpan<byte> orcpt = !originalRecipient.IsEmpty || address.SequenceEqual(written)
            ? originalRecipient
            : OriginalRecipient(written, orcptBuffer);
        _envelope.AddRecipient(address, RecipientFlags.Local | RecipientFlags.Mailbox, notify, orcpt);
    }

    /// <summary><c>rfc822;</c> and the address as written, in xtext; empty when it is not ASCII or too long for ORCPT (500).</summary>
    private static ReadOnlySpan<byte> OriginalRecipient(ReadOnlySpan<byte> written, Span<byte> buffer)
    {
        ReadOnlySpan<byte> type = "rfc822;"u8;
        if (!System.Text.Ascii.IsValid(written))
        {
            return default;
        }

        type.CopyTo(buffer);
        int n = type.Length;
        foreach (byte b in written)
        {
            bool plain = b is >= 33 and <= 126 and not (byte)'+' and not (byte)'=';
            if (n + (plain ? 1 : 3) > buffer.Length)
            {
                return default;
            }

            if (plain)
            {
                buffer[n++] = b;
            }
            else
            {
                buffer[n++] = (byte)'+';
                buffer[n++] = (byte)"0123456789ABCDEF"[b >> 4];
                buffer[n++] = (byte)"0123456789ABCDEF"[b & 0xF];
            }
        }

        return buffer[..n];
    }

    private Step RecipientAccepted()
    {
        _rcptCount++;
        SetState(SmtpState.Rcpt);
        Reply(SmtpReplies.RecipientOk);
        return Step.Continue;
    }

    /// <summary>A refused RCPT: one session-log row (client, sender, recipient, reply), then the counted error reply.</summary>
    private Step RefuseRcpt(ReadOnlySpan<byte> written, ReadOnlySpan<byte> reply)
    {
        LogRefusedRcpt(written, reply);
        return reply.StartsWith("452"u8) ? Continue(reply) : Error(reply);
    }

    /// <summary>452 (a full mailbox, too many recipients) is flow control, not a client error: not counted toward the 421.</summary>
    private Step Continue(ReadOnlySpan<byte> reply)
    {
        Reply(reply);
        return Step.Continue;
    }

    /// <summary><c>192.0.2.7 &lt;alice@example.test&gt;: RCPT TO:&lt;x@a.test&gt; refused: 550 5.1.1 ...</c></summary>
    private void LogRefusedRcpt(ReadOnlySpan<byte> written, ReadOnlySpan<byte> reply)
    {
        Span<byte> line = stackalloc byte[SessionLog.MaxLineLength];
        int n = PutClient(line);
        Put(line, ref n, ": RCPT TO:"u8);
        Put(line, ref n, written.Length > 200 ? written[..200] : written);
        Put(line, ref n, " refused: "u8);
        Put(line, ref n, reply.TrimEnd("\r\n"u8));
        _context.Log.Write(LogTag.Channel(_channel?.Number ?? 0), line[..n]);
    }

    /// <summary>
    /// The rows of an accepted message: <c>Message ID from 192.0.2.7 &lt;sender&gt; to &lt;a&gt; &lt;b&gt;</c>,
    /// continued on further rows (<c>Message ID to ...</c>) when the recipients do not fit on one.
    /// </summary>
    private void LogMessageRows()
    {
        Span<byte> line = stackalloc byte[SessionLog.MaxLineLength - 32];
        LogTag tag = LogTag.Channel(_channel?.Number ?? 0);
        int n = 0;
        Put(line, ref n, "Message "u8);
        PutHex(line, ref n, _messageId);
        int head = n;
        Put(line, ref n, " from "u8);
        n += PutClient(line[n..]);
        Put(line, ref n, " to"u8);
        bool any = false;
        foreach (ReadOnlySpan<byte> recipient in _envelope.Recipients)
        {
            int need = 2 + Math.Min(recipient.Length, 250) + 1;
            if (any && n + need > line.Length)
            {
                _context.Log.Write(tag, line[..n]);
                n = head;
                Put(line, ref n, " to"u8);
            }

            Put(line, ref n, " <"u8);
            Put(line, ref n, recipient.Length > 250 ? recipient[..250] : recipient);
            Put(line, ref n, ">"u8);
            any = true;
        }

        _context.Log.Write(tag, line[..n]);
    }

    /// <summary>Writes <c>IP &lt;sender&gt;</c> (the sender of the transaction, if MAIL was given) and returns its length.</summary>
    private int PutClient(Span<byte> line)
    {
        int n = 0;
        if (_remote.TryFormat(line, out int written))
        {
            n = written;
        }

        if (State is SmtpState.WaitRcpt or SmtpState.Rcpt or SmtpState.Data)
        {
            ReadOnlySpan<byte> sender = _envelope.Sender;
            Put(line, ref n, " <"u8);
            Put(line, ref n, sender.Length > 100 ? sender[..100] : sender);
            Put(line, ref n, ">"u8);
        }

        return n;
    }
}
