using System.Net;
using System.Security.Cryptography.X509Certificates;
using AbilisFast.Protocol.Esmtp;
using AbilisFast.Server.Queue;

namespace AbilisFast.Server.Delivery;

/// <summary>How an OUT connection introduces itself and how long it waits.</summary>
internal sealed class SmtpClientOptions
{
    /// <summary>The name sent in EHLO/HELO (HELOHOST).</summary>
    public required string HeloHost { get; init; }

    /// <summary>Local address to connect from, or null for the system's choice.</summary>
    public IPAddress? SourceAddress { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Greeting, EHLO, MAIL, RCPT, DATA (354), RSET and QUIT replies; RFC 5321 4.5.3.2 suggests 5 minutes.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Each write of the message text and the final reply after it (RFC 5321: 10 minutes).</summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// SERVER-SECURITY toward this host: TLS from the first byte, STARTTLS required (a server
    /// that does not offer it is a temporary failure), or none. With TLS or STARTTLS the
    /// certificate is checked as <see cref="Verification"/> says.
    /// </summary>
    public OutboundSecurity Security { get; init; }

    /// <summary>
    /// With <see cref="Security"/> None: STARTTLS when the server offers it, the certificate not
    /// checked (RFC 7435 opportunistic security, Postfix's "may" level). A refused STARTTLS goes on
    /// in plain text; a failed handshake throws with <see cref="SmtpClientException.TlsFailed"/>
    /// so that the caller can try the host again without TLS.
    /// </summary>
    public bool OpportunisticTls { get; init; }

    /// <summary>How the certificate is checked under <see cref="Security"/> TLS or STARTTLS (SERVER-TLS-VERIFY).</summary>
    public TlsVerification Verification { get; init; }

    /// <summary>SHA-256 digests of accepted SubjectPublicKeyInfos, for <see cref="TlsVerification.Pin"/>.</summary>
    public IReadOnlyList<byte[]> TlsPins { get; init; } = [];

    /// <summary>Extra trust anchors (SERVER-TLS-CA) besides the system's, for <see cref="TlsVerification.Verify"/>.</summary>
    public X509Certificate2Collection? TlsTrustAnchors { get; init; }

    /// <summary>The name the TLS handshake asks for (SNI) and the certificate must match (an IP literal: an IP address SAN).</summary>
    public string? TlsHost { get; init; }

    /// <summary>How long the TLS handshake may take in all (the smaller of DT and 30 s in the engine).</summary>
    public TimeSpan TlsHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>SERVER-USER and SERVER-PWD when SERVER-AUTH is YES: AUTH PLAIN (or LOGIN) after EHLO.</summary>
    public NetworkCredential? Credentials { get; init; }

    /// <summary>
    /// Whether <see cref="Credentials"/> may be sent over a connection without TLS (SERVER-AUTH-PLAINTEXT);
    /// otherwise authenticating in plain text is a temporary failure and nothing secret is sent.
    /// </summary>
    public bool AllowPlaintextAuth { get; init; }

    /// <summary>Receives every line sent ("&gt;&gt;&gt; ") and received ("&lt;&lt;&lt; ") when set (lsn:1 verbose trace).</summary>
    public Action<string>? Trace { get; init; }
}

/// <summary>What the server offered in its EHLO reply (set by <see cref="Parse"/> only).</summary>
internal sealed class OutboundCapabilities
{
    /// <summary>True when EHLO was accepted (false: the session fell back to HELO and offers nothing).</summary>
    public bool Extended { get; private set; }

    public bool Pipelining { get; private set; }

    public bool EightBitMime { get; private set; }

    public bool SmtpUtf8 { get; private set; }

    public bool Dsn { get; private set; }

    /// <summary>True when SIZE was offered, with or without a limit.</summary>
    public bool Size { get; private set; }

    /// <summary>The SIZE limit the server announced; 0 = none.</summary>
    public long MaxSize { get; private set; }

    public bool StartTls { get; private set; }

    /// <summary>The SASL mechanisms of the AUTH keyword (upper case), empty when AUTH was not offered.</summary>
    public IReadOnlyList<string> AuthMechanisms => _mechanisms;

    private readonly List<string> _mechanisms = [];

    public static readonly OutboundCapabilities None = new();

    /// <summary>Reads the keyword lines of an EHLO reply (the first line is the greeting text).</summary>
    public static OutboundCapabilities Parse(IReadOnlyList<string> lines)
    {
        var caps = new OutboundCapabilities { Extended = true };
        for (int i = 1; i < lines.Count; i++)
        {
            (string keyword, string argument) = SplitLine(lines[i]);
            switch (keyword.ToUpperInvariant())
            {
                case "PIPELINING":
                    caps.Pipelining = true;
                    break;
                case "8BITMIME":
                    caps.EightBitMime = true;
                    break;
                case "SMTPUTF8":
                    caps.SmtpUtf8 = true;
                    break;
                case "DSN":
                    caps.Dsn = true;
                    break;
                case "STARTTLS":
                    caps.StartTls = true;
                    break;
                case "AUTH":
                    caps._mechanisms.AddRange(argument.ToUpperInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries).Except(caps._mechanisms));
                    break;
                case "SIZE":
                    caps.Size = true;
                    if (argument.Length > 0 && long.TryParse(argument, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long limit))
                    {
                        caps.MaxSize = limit;
                    }

                    break;
            }
        }

        return caps;
    }

    /// <summary>One EHLO line (its code and separator removed): the keyword and its argument.</summary>
    private static (string Keyword, string Argument) SplitLine(string line)
    {
        int space = line.IndexOf(' ');
        string keyword = space < 0 ? line : line[..space];
        string argument = space < 0 ? string.Empty : line[(space + 1)..].Trim();
        if (keyword.StartsWith("AUTH=", StringComparison.OrdinalIgnoreCase))
        {
            // The pre-RFC 4954 form some servers still send: "AUTH=PLAIN LOGIN".
            return ("AUTH", (keyword[5..] + " " + argument).Trim());
        }

        return (keyword, argument);
    }
}

/// <summary>One transaction to send: the envelope and a way to read the stored message text.</summary>
internal sealed class OutboundMessage
{
    /// <summary>The reverse path without brackets; empty for the null sender.</summary>
    public required string Sender { get; init; }

    public required IReadOnlyList<OutboundRecipient> Recipients { get; init; }

    /// <summary>Size of the message text in octets (for SIZE=).</summary>
    public long Size { get; init; }

    /// <summary>The text has 8-bit octets (BODY=8BITMIME when offered).</summary>
    public bool EightBit { get; init; }

    /// <summary>Addresses or headers need SMTPUTF8 (RFC 6531): refused for good by a server that does not offer it.</summary>
    public bool SmtpUtf8 { get; init; }

    /// <summary>ENVID as received (xtext), passed on when the server offers DSN.</summary>
    public string? EnvelopeId { get; init; }

    public DsnReturn Return { get; init; }

    /// <summary>Opens the message text (headers and body, CRLF lines, not dot-stuffed).</summary>
    public required Func<Stream> OpenBody { get; init; }

    /// <summary>Header fields sent before the text (the DKIM-Signature fields), complete CRLF lines; usually empty.</summary>
    public ReadOnlyMemory<byte> Prefix { get; init; }
}

/// <summary>The replies of one transaction, one per recipient in the order of <see cref="OutboundMessage.Recipients"/>.</summary>
internal sealed class TransactionResult
{
    public required SmtpReply MailReply { get; init; }

    public required IReadOnlyList<SmtpReply?> RecipientReplies { get; init; }

    /// <summary>The reply after the end of data, or null when no DATA took place.</summary>
    public SmtpReply? DataReply { get; init; }

    /// <summary>CRLF SPACE breaks the text got on the way out, for lines over 998 octets (0 for most mail).</summary>
    public long Folds { get; init; }

    /// <summary>
    /// What decides recipient <paramref name="index"/>: a refused MAIL, else its RCPT reply when
    /// refused, else the reply to the message text.
    /// </summary>
    public SmtpReply FinalReplyFor(int index)
    {
        if (!MailReply.IsPositive)
        {
            return MailReply;
        }

        if (RecipientReplies[index] is not { IsPositive: true } rcpt)
        {
            return RecipientReplies[index] ?? new SmtpReply(451, "4.4.2 no reply to RCPT");
        }

        return DataReply ?? new SmtpReply(451, "4.4.2 no reply after the message text");
    }
}

/// <summary>
/// The connection or the conversation failed: refused or dropped connection, timeout, malformed or
/// truncated reply (temporary), or a refusal of the greeting or EHLO/HELO (<see cref="Reply"/> set).
/// </summary>
internal sealed class SmtpClientException : Exception
{
    public SmtpClientException(string message, SmtpReply? reply = null, Exception? inner = null)
        : base(message, inner)
    {
        Reply = reply;
    }

    /// <summary>The enhanced status code a recipient's last reply gets when there is no <see cref="Reply"/>.</summary>
    public string Status { get; init; } = "4.4.1";

    /// <summary>
    /// The failure came from opportunistic TLS (the handshake, or the conversation right after it):
    /// the same host may well take the mail without TLS on a new connection.
    /// </summary>
    public bool TlsFailed { get; init; }

    /// <summary>
    /// The server did not answer (or did not take our bytes) within its deadline: the costly
    /// failure, which held the channel for a whole OUT-TIMEOUT.
    /// </summary>
    public bool TimedOut { get; init; }

    /// <summary>The server's reply when the failure was a refusal, else null.</summary>
    public SmtpReply? Reply { get; }

    /// <summary>A 5xx refusal: trying again later will not help.</summary>
    public bool IsPermanent => Reply is { IsPermanent: true };
}
