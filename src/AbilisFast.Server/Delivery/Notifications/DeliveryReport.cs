using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AbilisFast.Protocol.Esmtp;
using AbilisFast.Server.Queue;

namespace AbilisFast.Server.Delivery;

/// <summary>
/// Builds an RFC 3464 delivery status notification: a failure notification (a bounce), a delay
/// report or a success report, each a multipart/report (RFC 6522) with a human-readable text/plain
/// part, a message/delivery-status part and the original message (for a failure with RET=FULL the
/// whole message/rfc822 up to <see cref="MaxReturnedOctets"/>, else its text/rfc822-headers).
/// The result has CRLF line ends only and no line over 998 octets. When a part carries 8-bit
/// octets it is marked 8bit (and so is the whole message): such a notification needs 8BITMIME,
/// and one whose To: holds a UTF-8 address needs SMTPUTF8.
/// </summary>
internal static partial class DeliveryReport
{
    private const string NormalSubject = "Undelivered Mail Returned to Sender";
    private const string LifetimeSubject = "Undelivered Mail: message lifetime expired";
    private const string DelaySubject = "Delayed Mail (still being retried)";
    private const string SuccessSubject = "Successful Mail Delivery Report";
    private const int TextWidth = 76;

    /// <summary>The complete notification message (header section and body).</summary>
    /// <exception cref="ArgumentException">
    /// The sender is empty (a null reverse-path never gets a notification, RFC 5321 6.1) or there is no recipient.
    /// </exception>
    public static byte[] Build(NotificationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string sender = MailLines.Clean(request.Sender);
        if (sender.Length == 0)
        {
            throw new ArgumentException("A message with a null reverse-path gets no notification.", nameof(request));
        }

        Validate(request);
        string reportingMta = MailLines.CleanAscii(request.ReportingMta).Replace(' ', '-');
        if (reportingMta.Length == 0)
        {
            reportingMta = "localhost";
        }

        // RFC 3461 4.3: RET asks for the whole message in a failure notification only.
        ReturnedOriginal original = ReadOriginal(request.OpenOriginal, request.Kind == ReportKind.Failure && request.Return == DsnReturn.Full);
        byte[] text = BuildTextPart(request, reportingMta, original);
        byte[] status = BuildStatusPart(request, reportingMta);
        bool textIs8Bit = Has8Bit(text);
        bool originalIs8Bit = Has8Bit(original.Content);
        string boundary = ChooseBoundary(text, status, original.Content);

        DateTimeOffset date = request.Date == default ? DateTimeOffset.UtcNow : request.Date;
        var output = new MemoryStream(text.Length + status.Length + original.Content.Length + 2048);
        Header(output, "From", "\"Mail Delivery System\" <MAILER-DAEMON@" + reportingMta + ">");
        Header(output, "To", "<" + sender + ">");
        Header(output, "Subject", request.Kind switch
        {
            ReportKind.Delay => DelaySubject,
            ReportKind.Success => SuccessSubject,
            _ => request.LifetimeExpired ? LifetimeSubject : NormalSubject,
        });
        Header(output, "Date", MailLines.FormatDate(date));
        Header(output, "Message-ID", "<" + NewMessageId(date) + "@" + reportingMta + ">");
        Header(output, "Auto-Submitted", "auto-replied");
        Header(output, "MIME-Version", "1.0");
        // Written by hand so the parameter list stays on one line up to the boundary, which is folded.
        WriteAscii(output, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + boundary + "\"\r\n");
        if (textIs8Bit || originalIs8Bit)
        {
            Header(output, "Content-Transfer-Encoding", "8bit");
        }

        output.Write(MailLines.Crlf);
        WriteAscii(output, "This is a MIME-encapsulated message.\r\n");

        WriteParts(output, boundary, request, text, textIs8Bit, status, original, originalIs8Bit);
        WriteAscii(output, "\r\n--" + boundary + "--\r\n");
        return output.ToArray();
    }

    /// <summary>A report names at least one recipient, and each recipient's action fits the kind of report.</summary>
    private static void Validate(NotificationRequest request)
    {
        if (request.Recipients.Count == 0)
        {
            throw new ArgumentException("A report names at least one recipient.", nameof(request));
        }

        foreach (ReportedRecipient recipient in request.Recipients)
        {
            if (KindOf(recipient.Action) != request.Kind)
            {
                throw new ArgumentException($"A {request.Kind} report cannot say {recipient.Action}.", nameof(request));
            }
        }
    }

    /// <summary>The three parts of the report: the text, the delivery-status fields and the original (whole or headers).</summary>
    private static void WriteParts(MemoryStream output, string boundary, NotificationRequest request, byte[] text, bool textIs8Bit,
        byte[] status, ReturnedOriginal original, bool originalIs8Bit)
    {
        WriteAscii(output, "\r\n--" + boundary + "\r\n");
        Header(output, "Content-Description", "Notification");
        Header(output, "Content-Type", "text/plain; charset=utf-8");
        Header(output, "Content-Transfer-Encoding", textIs8Bit ? "8bit" : "7bit");
        output.Write(MailLines.Crlf);
        output.Write(text);

        WriteAscii(output, "\r\n--" + boundary + "\r\n");
        Header(output, "Content-Description", "Delivery report");
        Header(output, "Content-Type", "message/delivery-status");
        output.Write(MailLines.Crlf);
        output.Write(status);

        WriteAscii(output, "\r\n--" + boundary + "\r\n");
        Header(output, "Content-Description", (request.Kind == ReportKind.Failure ? "Undelivered message" : "Message") + (original.IsFull ? string.Empty : " headers"));
        Header(output, "Content-Type", original.IsFull ? "message/rfc822" : "text/rfc822-headers");
        if (originalIs8Bit)
        {
            Header(output, "Content-Transfer-Encoding", "8bit");
        }

        output.Write(MailLines.Crlf);
        output.Write(original.Content);
    }

    /// <summary>The human-readable part: UTF-8 lines, wrapped.</summary>
    private static byte[] BuildTextPart(NotificationRequest request, string reportingMta, ReturnedOriginal original)
    {
        var lines = new List<string>
        {
            "This is the mail delivery system at " + reportingMta + ".",
            string.Empty,
        };
        AddIntroduction(lines, request);
        lines.Add(string.Empty);
        foreach (ReportedRecipient recipient in request.Recipients)
        {
            string reason = MailLines.Clean(recipient.Reason);
            lines.Add("<" + MailLines.Clean(recipient.Address) + ">: " + (reason.Length == 0 ? "delivery failed" : reason));
            string remote = MailLines.Clean(recipient.RemoteMta);
            if (remote.Length > 0)
            {
                lines.Add("    Remote host: " + remote);
            }

            string diagnostic = MailLines.Clean(recipient.DiagnosticCode);
            if (diagnostic.Length > 0)
            {
                lines.Add("    Remote reply: " + diagnostic);
            }

            lines.Add("    Status: " + MailLines.Clean(recipient.Status));
            lines.Add(string.Empty);
        }

        AddAttachmentNote(lines, request, original);
        var output = new MemoryStream();
        foreach (string line in lines)
        {
            string indent = line.StartsWith("    ", StringComparison.Ordinal) ? "        " : line.StartsWith('<') ? "    " : string.Empty;
            foreach (string wrapped in MailLines.Wrap(line, TextWidth, indent))
            {
                MailLines.WriteBodyLine(output, Encoding.UTF8.GetBytes(wrapped));
            }
        }

        return output.ToArray();
    }

    /// <summary>What happened, in one paragraph for the kind of report.</summary>
    private static void AddIntroduction(List<string> lines, NotificationRequest request)
    {
        if (request.Kind == ReportKind.Delay)
        {
            lines.Add("THIS IS A WARNING ONLY. YOU DO NOT NEED TO RESEND YOUR MESSAGE.");
            lines.Add(string.Empty);
            lines.Add("Your message could not be delivered yet to the recipients below. It stays in the queue and delivery will be tried again"
                + (request.Recipients[0].WillRetryUntil == default ? "." : " until " + MailLines.FormatDate(request.Recipients[0].WillRetryUntil) + "; you will be told if it fails for good."));
        }
        else if (request.Kind == ReportKind.Success)
        {
            lines.Add("Your message was delivered to the recipients below, as you asked (NOTIFY=SUCCESS).");
        }
        else if (request.LifetimeExpired)
        {
            lines.Add("Your message could not be delivered to the recipients below within the time it may stay in the queue (message lifetime expired). Delivery has been given up.");
        }
        else
        {
            lines.Add("Your message could not be delivered to one or more recipients. Delivery has been given up for the recipients below.");
        }
    }

    /// <summary>What is attached of the original message, and whether its header section was cut short.</summary>
    private static void AddAttachmentNote(List<string> lines, NotificationRequest request, ReturnedOriginal original)
    {
        if (request.Kind != ReportKind.Failure)
        {
            lines.Add("The header section of your message is attached.");
        }
        else if (original.IsFull)
        {
            lines.Add("The undelivered message is attached.");
        }
        else if (original.TooLarge)
        {
            lines.Add("The undelivered message was larger than "
                + (MaxReturnedOctets / (1024 * 1024)).ToString(CultureInfo.InvariantCulture)
                + " MiB, so only its header section is attached.");
        }
        else
        {
            lines.Add("The header section of the undelivered message is attached.");
        }

        if (original.HeadersTruncated)
        {
            lines.Add("The header section was too large and has been cut short.");
        }
    }

    /// <summary>The message/delivery-status part (RFC 3464 2.1): per-message fields, then one group per recipient; US-ASCII only.</summary>
    private static byte[] BuildStatusPart(NotificationRequest request, string reportingMta)
    {
        var output = new MemoryStream();
        StatusField(output, "Reporting-MTA", "dns; " + reportingMta);
        string envelopeId = MailLines.CleanAscii(request.EnvelopeId);
        if (envelopeId.Length > 0)
        {
            StatusField(output, "Original-Envelope-Id", envelopeId);
        }

        string receivedFrom = MailLines.CleanAscii(request.ReceivedFromMta);
        if (receivedFrom.Length > 0)
        {
            StatusField(output, "Received-From-MTA", receivedFrom);
        }

        if (request.Arrival != default)
        {
            StatusField(output, "Arrival-Date", MailLines.FormatDate(request.Arrival));
        }

        foreach (ReportedRecipient recipient in request.Recipients)
        {
            output.Write(MailLines.Crlf);
            RecipientFields(output, recipient);
        }

        return output.ToArray();
    }

    /// <summary>The per-recipient fields of the delivery-status part (RFC 3464 2.3) for one recipient.</summary>
    private static void RecipientFields(Stream output, ReportedRecipient recipient)
    {
        string? originalRecipient = FormatOriginalRecipient(recipient.OriginalRecipient);
        if (originalRecipient is not null)
        {
            StatusField(output, "Original-Recipient", originalRecipient);
        }

        string address = MailLines.Clean(recipient.Address);
        StatusField(output, "Final-Recipient", System.Text.Ascii.IsValid(address)
            ? "rfc822; " + address
            : "utf-8; " + MailLines.EncodeUtf8AddressXtext(address));
        StatusField(output, "Action", recipient.Action switch
        {
            ReportAction.Delayed => "delayed",
            ReportAction.Delivered => "delivered",
            ReportAction.Relayed => "relayed",
            _ => "failed",
        });
        StatusField(output, "Status", MailLines.CleanAscii(recipient.Status));
        string remote = MailLines.CleanAscii(recipient.RemoteMta);
        if (remote.Length > 0)
        {
            StatusField(output, "Remote-MTA", "dns; " + remote);
        }

        string diagnostic = MailLines.CleanAscii(recipient.DiagnosticCode);
        if (diagnostic.Length > 0)
        {
            StatusField(output, "Diagnostic-Code", "smtp; " + diagnostic);
        }

        if (recipient.LastAttempt != default)
        {
            StatusField(output, "Last-Attempt-Date", MailLines.FormatDate(recipient.LastAttempt));
        }

        if (recipient.Action == ReportAction.Delayed && recipient.WillRetryUntil != default)
        {
            StatusField(output, "Will-Retry-Until", MailLines.FormatDate(recipient.WillRetryUntil));
        }
    }

    /// <summary>
    /// ORCPT "type;xtext" as "type; xtext" (the xtext kept as received); non-ASCII characters, which
    /// xtext cannot hold, written as RFC 6533 \x{HEX}. Null when absent or without a type.
    /// </summary>
    private static string? FormatOriginalRecipient(string? orcpt)
    {
        string clean = MailLines.Clean(orcpt);
        int semicolon = clean.IndexOf(';');
        if (semicolon <= 0)
        {
            return null;
        }

        string type = clean[..semicolon].Trim();
        string value = clean[(semicolon + 1)..].Trim();
        if (type.Length == 0 || value.Length == 0)
        {
            return null;
        }

        if (!System.Text.Ascii.IsValid(value))
        {
            var builder = new StringBuilder(value.Length + 16);
            foreach (Rune rune in value.EnumerateRunes())
            {
                if (rune.IsAscii)
                {
                    builder.Append((char)rune.Value);
                }
                else
                {
                    builder.Append("\\x{").Append(rune.Value.ToString("X2", CultureInfo.InvariantCulture)).Append('}');
                }
            }

            value = builder.ToString();
        }

        return MailLines.CleanAscii(type) + "; " + value;
    }

    private static ReportKind KindOf(ReportAction action) => action switch
    {
        ReportAction.Delayed => ReportKind.Delay,
        ReportAction.Delivered or ReportAction.Relayed => ReportKind.Success,
        _ => ReportKind.Failure,
    };

    /// <summary>A random boundary that occurs in none of the parts.</summary>
    private static string ChooseBoundary(byte[] text, byte[] status, byte[] original)
    {
        while (true)
        {
            string boundary = "=_AbilisFast_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            byte[] bytes = Encoding.ASCII.GetBytes(boundary);
            if (text.AsSpan().IndexOf(bytes) < 0 && status.AsSpan().IndexOf(bytes) < 0 && original.AsSpan().IndexOf(bytes) < 0)
            {
                return boundary;
            }
        }
    }

    private static string NewMessageId(DateTimeOffset date)
    {
        return date.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)
            + "." + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
    }

    private static bool Has8Bit(byte[] content) => content.AsSpan().IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0;

    private static void Header(Stream output, string name, string value) => MailLines.WriteHeaderField(output, name, value);

    /// <summary>Delivery-status fields are folded only past 998 octets, so each reads as one line.</summary>
    private static void StatusField(Stream output, string name, string value) => MailLines.WriteHeaderField(output, name, value, MailLines.MaxLineOctets);

    private static void WriteAscii(Stream output, string text) => output.Write(Encoding.ASCII.GetBytes(text));
}
