using System.Globalization;
using AbilisFast.Server.Spool;

namespace AbilisFast.Server.Sessions;

/// <summary>The start of a message in the spool: its id, the Received: header field and the session-log lines about it.</summary>
internal sealed partial class InSession
{
    /// <summary>Allocates the id, opens the spool writer and writes the Received: header.</summary>
    private bool StartMessage()
    {
        _bodyBytes = 0;
        _hops.Reset();
        _headerScan.Reset();
        _oversize = false;
        _writeFailed = false;
        if (_context.Settings.Sink || _context.Spool is null)
        {
            _messageId = _context.NextSinkId();
        }
        else
        {
            try
            {
                _messageId = _context.Spool.NextId();
                _writer = _context.Spool.BeginMessage(_messageId);
                WriteReceivedHeader(_writer);
            }
            catch (IOException e)
            {
                LogNotQueued(e);
                AbortMessage();
                return false;
            }
        }

        _messageStarted = true;
        LogReceiving();
        return true;
    }

    /// <summary>
    /// One session-log line saying why a message got 451 (a full disk, a failed write or sync), so the
    /// operator sees the cause and not only the refusal. Only on the failure path.
    /// </summary>
    private void LogNotQueued(IOException e) =>
        _context.Log.Write(LogTag.In, $"Message {SpoolIds.Format(_messageId)} not queued: {e.Message}");

    private void LogReceiving()
    {
        // Formatted by hand: Utf8.TryWrite boxes its values in unoptimised (Debug, tier-0) code.
        Span<byte> text = stackalloc byte[48];
        int n = 0;
        Put(text, ref n, "Receiving message: "u8);
        PutHex(text, ref n, _messageId);
        _context.Log.Write(LogTag.In, text[..n]);
        LogMessageRows();
    }

    /// <summary>
    /// The HELO name as the Received: field shows it. A message sent with SMTPUTF8 may carry UTF-8 in
    /// its header (RFC 6532), so the name goes in as it came; in any other message the fields this
    /// server writes itself are ASCII: an internationalised name as its A-label (xn--), anything else
    /// non-ASCII as '?' (Postfix's replacement character). The message's own header fields are left as
    /// the client sent them, 8-bit or not, as Postfix leaves them.
    /// </summary>
    private ReadOnlySpan<byte> TraceHelo()
    {
        ReadOnlySpan<byte> helo = _helo.Span;
        if (_smtpUtf8 || System.Text.Ascii.IsValid(helo))
        {
            return helo;
        }

        string name = System.Text.Encoding.UTF8.GetString(helo);
        try
        {
            return System.Text.Encoding.ASCII.GetBytes(new IdnMapping().GetAscii(name));
        }
        catch (ArgumentException)
        {
            byte[] ascii = new byte[name.Length];
            for (int i = 0; i < name.Length; i++)
            {
                ascii[i] = name[i] is > ' ' and < '\u007F' ? (byte)name[i] : (byte)'?';
            }

            return ascii;
        }
    }

    private void WriteReceivedHeader(SpoolWriter writer)
    {
        // HELO (<= 255 octets), host name and the fixed text fit in two command lines' worth.
        Span<byte> header = stackalloc byte[LineReaderMax * 2 + 256];
        // RFC 3848 / RFC 6531: S under TLS, A once authenticated (ESMTPSA, UTF8SMTPSA, ...).
        ReadOnlySpan<byte> protocol = !_helo.Extended ? "SMTP"u8 : _smtpUtf8 ? "UTF8SMTP"u8 : "ESMTP"u8;
        int n = 0;
        Put(header, ref n, "Received: from "u8);
        Put(header, ref n, _helo.IsEmpty ? "unknown"u8 : TraceHelo());
        Put(header, ref n, " (["u8);
        // RFC 5321 4.1.3: an IPv6 address literal carries the IPv6: tag ([IPv6:2001:db8::1]).
        PeerAddress.TryFormatLiteral(_remote, header[n..], out int written);
        n += written;
        Put(header, ref n, "])\r\n\t"u8);
        if (_authenticated && _authUser is { } user)
        {
            // Like Postfix with smtpd_sasl_authenticated_header: the user that submitted the message.
            Put(header, ref n, "(Authenticated sender: "u8);
            Span<byte> name = stackalloc byte[64];
            int length = System.Text.Encoding.ASCII.GetBytes(user, name);
            Put(header, ref n, name[..length]);
            Put(header, ref n, ")\r\n\t"u8);
        }

        Put(header, ref n, "by "u8);
        Put(header, ref n, _context.HeloHostUtf8);
        Put(header, ref n, " (AbilisFast) with "u8);
        Put(header, ref n, protocol);
        if (_helo.Extended && Transport.IsSecure)
        {
            Put(header, ref n, "S"u8);
        }

        if (_helo.Extended && _authenticated)
        {
            Put(header, ref n, "A"u8);
        }
        Put(header, ref n, " id "u8);
        PutHex(header, ref n, _messageId);
        Put(header, ref n, ";\r\n\t"u8);
        _context.Time.GetUtcNow().TryFormat(header[n..], out written, "ddd, dd MMM yyyy HH:mm:ss", CultureInfo.InvariantCulture);
        n += written;
        Put(header, ref n, " +0000\r\n"u8);

        writer.Write(header[..n]);
    }

    private static void PutHex(Span<byte> destination, ref int position, uint id)
    {
        id.TryFormat(destination[position..], out int written, "X8", CultureInfo.InvariantCulture);
        position += written;
    }

    private static void Put(Span<byte> destination, ref int position, ReadOnlySpan<byte> text)
    {
        int length = Math.Min(text.Length, destination.Length - position);
        text[..length].CopyTo(destination[position..]);
        position += length;
    }

    private const int LineReaderMax = Protocol.Lines.LineReader.MaxCommandLine;

    private static void PutInt(Span<byte> destination, ref int position, int value)
    {
        value.TryFormat(destination[position..], out int written, default, CultureInfo.InvariantCulture);
        position += written;
    }
}
