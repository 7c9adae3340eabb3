using System.Globalization;
using System.Net;
using System.Text;
using AbilisFast.Protocol.Addressing;
using AbilisFast.Protocol.Replies;
using AbilisFast.Server.Recipients;

namespace AbilisFast.Server.Sessions;

/// <summary>
/// Message submission (RFC 6409) on SUBMISSION-PORT, and on TLS-PORT with SUBMISSION-TLS:YES
/// (RFC 8314). AUTH is offered only under TLS (SUBMISSION-PLAINTEXT:LOOPBACK also allows it in
/// plaintext from a loopback client), MAIL needs an authenticated user and an address that user
/// owns (553 5.7.1 at MAIL), each user may start SUBMISSION-RATE messages a minute (450 4.7.1 past
/// that), recipients anywhere are relayed, and a message without Date: or Message-ID: gets them at
/// the end of its header section (RFC 6409 8.2, 8.3), as Postfix's cleanup(8) adds them.
/// </summary>
internal sealed partial class InSession
{
    private bool _submission;
    private SubmissionHeaderScan _headerScan;

    /// <summary>AUTH without TLS: on submission only from loopback with SUBMISSION-PLAINTEXT:LOOPBACK, else AUTH-PLAINTEXT without TLS-REQUIRED.</summary>
    private bool PlaintextAuthAllowed => _submission
        ? _context.Settings.SubmissionPlainLoopback && IPAddress.IsLoopback(_remote)
        : _context.Settings.AuthPlaintext && !_context.Settings.TlsRequired;

    /// <summary>
    /// The submission checks of MAIL FROM, after its syntax: authenticated (530 5.7.0), an address
    /// the user may use (553 5.7.1), the user's rate (450 4.7.1). Null when MAIL goes on.
    /// </summary>
    private Step? SubmissionRefusal(ReadOnlySpan<byte> sender)
    {
        if (!_authenticated || _authUser is not { } user)
        {
            return Error(SmtpReplies.AuthRequired);
        }

        SmtpSettings settings = _context.Settings;
        if (!settings.MayUseAnySender(user) && !OwnsSender(user, sender))
        {
            string shown = Encoding.UTF8.GetString(sender);
            LogSession($"SUBMISSION: MAIL FROM <{shown}> refused: not owned by user {user}");
            return Error(Encoding.UTF8.GetBytes($"553 5.7.1 <{shown}>: Sender address rejected: not owned by user {user}\r\n"));
        }

        if (!_context.SubmissionRates.TryTake(user, settings.SubmissionRate, _context.Time.GetUtcNow()))
        {
            LogSession($"SUBMISSION: MAIL refused: user {user} is over SUBMISSION-RATE ({settings.SubmissionRate} messages per minute)");
            return Error(Encoding.ASCII.GetBytes(
                $"450 4.7.1 Error: too much mail from user {user} ({settings.SubmissionRate} messages per minute), try again later\r\n"));
        }

        return null;
    }

    /// <summary>
    /// The user's own mailbox names: <c>USER@DOMAIN</c> for every LOCAL-DOMAIN (the local part
    /// compared as user names are, case-insensitively), the same with an address extension
    /// (<c>bob+alerts</c>), and the aliases in WDIR/aliases that lead to the user's mailbox (as
    /// Postfix's smtpd_sender_login_maps would list them). A catch-all gives no ownership (it would
    /// give its user every name of the domain). The null sender is nobody's.
    /// </summary>
    private bool OwnsSender(string user, ReadOnlySpan<byte> sender)
    {
        int at = sender.LastIndexOf((byte)'@');
        if (at <= 0 || !_context.Settings.IsLocalDomain(sender[(at + 1)..]))
        {
            return false;
        }

        ReadOnlySpan<byte> local = sender[..at];
        if (IsUserName(local, user))
        {
            return true;
        }

        if (_context.Recipients is not { } recipients || local.Length > PathParser.MaxLocalPartLength)
        {
            return false;
        }

        Span<char> canonical = stackalloc char[PathParser.MaxLocalPartLength];
        ReadOnlySpan<char> name = canonical[..MailboxFolder.Canonicalize(local, canonical)];
        RecipientTarget[]? targets = LookUp(recipients, _context.Settings, name, domainAscii: null);
        foreach (RecipientTarget target in targets ?? [])
        {
            if (target.IsMailbox && string.Equals(target.Value, user, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when <paramref name="local"/> is <paramref name="user"/> in any case.</summary>
    private static bool IsUserName(ReadOnlySpan<byte> local, string user)
    {
        if (local.Length != user.Length)
        {
            return false;
        }

        for (int i = 0; i < local.Length; i++)
        {
            if (char.ToLowerInvariant((char)local[i]) != char.ToLowerInvariant(user[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Appends message bytes; in a submission session the missing fields go in before the empty line that ends the header section.</summary>
    private void AppendSubmitted(ReadOnlySpan<byte> bytes)
    {
        if (_submission && !_headerScan.Ended)
        {
            int end = _headerScan.Feed(bytes);
            if (end >= 0)
            {
                AppendBody(bytes[..end]);
                AppendMissingFields();
                bytes = bytes[end..];
            }
        }

        AppendBody(bytes);
    }

    /// <summary>At the end of the text: a message that is all header section (no empty line) gets the missing fields at its end.</summary>
    private void EndSubmittedText()
    {
        if (_submission && !_headerScan.Ended)
        {
            if (!_headerScan.AtLineStart)
            {
                AppendBody("\r\n"u8);
            }

            _headerScan.Feed("\r\n"u8);
            AppendMissingFields();
        }
    }

    /// <summary>RFC 6409 8.2 and 8.3: Date: (now, UTC) and Message-ID: (with HELOHOST) when the message has none.</summary>
    private void AppendMissingFields()
    {
        Span<byte> fields = stackalloc byte[LineReaderMax + 160];
        int n = 0;
        if (!_headerScan.HasDate)
        {
            Put(fields, ref n, "Date: "u8);
            _context.Time.GetUtcNow().TryFormat(fields[n..], out int written, "ddd, dd MMM yyyy HH:mm:ss", CultureInfo.InvariantCulture);
            n += written;
            Put(fields, ref n, " +0000\r\n"u8);
        }

        if (!_headerScan.HasMessageId)
        {
            // Unique: the spool id is unique in this spool, the time in milliseconds across spools.
            Put(fields, ref n, "Message-ID: <"u8);
            _context.Time.GetUtcNow().ToUnixTimeMilliseconds().TryFormat(fields[n..], out int written, default, CultureInfo.InvariantCulture);
            n += written;
            Put(fields, ref n, "."u8);
            PutHex(fields, ref n, _messageId);
            Put(fields, ref n, "@"u8);
            Put(fields, ref n, _context.HeloHostUtf8);
            Put(fields, ref n, ">\r\n"u8);
        }

        if (n > 0)
        {
            LogSession($"SUBMISSION: message {_messageId:X8}: added{(_headerScan.HasDate ? string.Empty : " Date:")}{(_headerScan.HasMessageId ? string.Empty : " Message-ID:")}");
            AppendBody(fields[..n]);
        }
    }
}
