using System.Net;

namespace AbilisFast.Server.Configuration;

/// <summary>
/// An immutable, typed snapshot of the SMTP parameters. Build one with
/// <see cref="ParameterStore.ToSettings"/>; tests may start from <see cref="Default"/> and use
/// <c>with</c>. Names follow the Abilis parameters (see docs/abilis-smtp.md).
/// </summary>
internal sealed partial record SmtpSettings
{
    private DomainSet _localDomains = DomainSet.Empty;

    /// <summary>Built-in defaults with WDIR under the current directory.</summary>
    public static SmtpSettings Default => new ParameterStore().ToSettings();

    /// <summary>ACT.</summary>
    public bool Active { get; init; }

    /// <summary>LOG.</summary>
    public bool Log { get; init; }

    /// <summary>TCP-LOCPORT.</summary>
    public int TcpLocPort { get; init; }

    /// <summary>SRCADD; null = any (#).</summary>
    public IPAddress? SourceAddress { get; init; }

    /// <summary>SES-TOT.</summary>
    public int SesTot { get; init; }

    /// <summary>SES-RESERVED-IN.</summary>
    public int SesReservedIn { get; init; }

    /// <summary>SES-RESERVED-OUT.</summary>
    public int SesReservedOut { get; init; }

    /// <summary>Shared ("MIX") channels: SES-TOT - SES-RESERVED-IN - SES-RESERVED-OUT.</summary>
    public int SesShared => SesTot - SesReservedIn - SesReservedOut;

    /// <summary>DT: the inactivity timeout of an inbound session (and the time one command line may take to arrive whole).</summary>
    public TimeSpan InactivityTimeout { get; init; }

    /// <summary>MAX-IP-SES.</summary>
    public int MaxIpSes { get; init; }

    /// <summary>MAX-RCPT.</summary>
    public int MaxRcpt { get; init; }

    /// <summary>IPSRC; null = none (#).</summary>
    public IPAddress? IpSrc { get; init; }

    /// <summary>IPSRCLIST name; null = none (#).</summary>
    public string? IpSrcList { get; init; }

    /// <summary>IPSRC ∪ IPSRCLIST: clients allowed to connect. Empty = nobody.</summary>
    public IpAccessList IpSrcAllowed { get; init; } = IpAccessList.Empty;

    /// <summary>LOCAL-DOMAIN, without trailing dots.</summary>
    public IReadOnlyList<string> LocalDomains
    {
        get => _localDomains.Names;
        init => _localDomains = new DomainSet(value);
    }

    /// <summary>HELOHOST.</summary>
    public string HeloHost { get; init; } = "noname";

    /// <summary>WDIR, absolute.</summary>
    public string WorkDir { get; init; } = string.Empty;

    /// <summary>MAX-FAIL-NOTIF.</summary>
    public int MaxFailNotif { get; init; }

    /// <summary>MSG-MAXSIZE in KiB.</summary>
    public int MsgMaxSizeKiB { get; init; }

    /// <summary>MSG-MAXSIZE in bytes.</summary>
    public long MsgMaxSizeBytes => MsgMaxSizeKiB * 1024L;

    /// <summary>STORE-MB.</summary>
    public bool StoreMb { get; init; }

    /// <summary>MB-MAXSIZE in KiB.</summary>
    public int MbMaxSizeKiB { get; init; }

    /// <summary>MB-MAXSIZE in bytes.</summary>
    public long MbMaxSizeBytes => MbMaxSizeKiB * 1024L;

    /// <summary>MB-MAXMAILS.</summary>
    public int MbMaxMails { get; init; }

    /// <summary>RELAY-NET ∪ RELAY-IPSRCLIST: clients allowed to relay. Empty = none.</summary>
    public IpAccessList RelayNets { get; init; } = IpAccessList.Empty;

    /// <summary>RELAY-AUTH ENABLED.</summary>
    public bool RelayAuth { get; init; }

    /// <summary>QUEUE-LIFE-TIME.</summary>
    public TimeSpan QueueLifeTime { get; init; }

    /// <summary>MAIL-TRY-DELAY.</summary>
    public TimeSpan MailTryDelay { get; init; }

    /// <summary>HOP-LIMIT: the most Received: fields a message may carry with ours; more is a mail loop (554 5.4.6).</summary>
    public int HopLimit { get; init; } = 100;

    /// <summary>
    /// JUNK-CMD-LIMIT: NOOP, RSET, VRFY and HELP a session may send (counted again after each accepted
    /// message) before each further one counts as an error, as Postfix's smtpd_junk_command_limit; 1
    /// while all channels are busy.
    /// </summary>
    public int JunkCommandLimit { get; init; } = 100;

    /// <summary>IPV6-PREFIX-SES: the IPv6 prefix length MAX-IP-SES (and IPBAN) count clients by; 128 = each address.</summary>
    public int Ipv6PrefixSes { get; init; } = 64;

    /// <summary>DELAY-NOTIF-TIME: how long a message waits before its NOTIFY=DELAY recipients get a delay report; zero = never.</summary>
    public TimeSpan DelayNotifTime { get; init; } = TimeSpan.FromHours(4);

    /// <summary>SERVER: the relay server (smarthost) all remote mail goes to; null = deliver by MX.</summary>
    public string? RelayServer { get; init; }

    /// <summary>SERVER-TCP-PORT.</summary>
    public int RelayServerTcpPort { get; init; }

    /// <summary>SERVER-AUTH.</summary>
    public bool RelayServerAuth { get; init; }

    /// <summary>SERVER-USER.</summary>
    public string RelayServerUser { get; init; } = string.Empty;

    /// <summary>SERVER-PWD (never printed by <see cref="ToString"/>).</summary>
    public string RelayServerPassword { get; init; } = string.Empty;

    /// <summary>SERVER-SECURITY.</summary>
    public OutboundSecurity RelayServerSecurity { get; init; }

    /// <summary>ADMIN-ADDR; null = no admin port (#).</summary>
    public IPAddress? AdminAddress { get; init; }

    /// <summary>ADMIN-PORT.</summary>
    public int AdminPort { get; init; }

    /// <summary>DNS; null = system resolver.</summary>
    public IPEndPoint? Dns { get; init; }

    /// <summary>QUEUE-HOLD.</summary>
    public bool QueueHold { get; init; }

    /// <summary>SERVER-AUTH-PLAINTEXT (ours): credentials may go to the relay server over a connection without TLS.</summary>
    public bool RelayServerAuthPlaintext { get; init; }

    /// <summary>MX-PORT (ours): the port delivery by MX connects to.</summary>
    public int MxPort { get; init; } = 25;

    /// <summary>TLS-CERT, absolute (relative paths are under WDIR); null = generate in WDIR.</summary>
    public string? TlsCertPath { get; init; }

    /// <summary>TLS-KEY, absolute (relative paths are under WDIR); null = generate in WDIR.</summary>
    public string? TlsKeyPath { get; init; }

    /// <summary>TLS-REQUIRED.</summary>
    public bool TlsRequired { get; init; }

    /// <summary>AUTH-PLAINTEXT.</summary>
    public bool AuthPlaintext { get; init; }

    /// <summary>
    /// OUT-TIMEOUT (ours): how long an OUT session waits for each reply of the remote server (RFC 5321
    /// 4.5.3.2 suggests 5 minutes); the reply to the final dot gets twice that (10 minutes by default).
    /// </summary>
    public TimeSpan OutTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>TLS-PORT: the implicit TLS port; null = none (#).</summary>
    public int? TlsPort { get; init; }
    /// <summary>DATA-TIMEOUT: how long one whole DATA or BDAT transfer may take; zero = no limit.</summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>MIN-DATA-RATE in bytes per second; 0 = no minimum.</summary>
    public int MinDataRate { get; init; } = 256;

    /// <summary>DATA-RATE-WINDOW: the grace at the start of a transfer and the length of each rate window.</summary>
    public TimeSpan DataRateWindow { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>LOG-MAX-SIZE (ours) in KiB: the session-log file is rotated before it grows past it.</summary>
    public int LogMaxSizeKiB { get; init; } = 1024;

    /// <summary>LOG-FILES (ours): log files kept, the current one included.</summary>
    public int LogFiles { get; init; } = 3;
    /// <summary>SERVER-TLS-VERIFY (ours): how the relay server's certificate is checked.</summary>
    public TlsVerification RelayServerTlsVerify { get; init; }

    /// <summary>SERVER-TLS-PIN (ours): SHA-256 digests of accepted SubjectPublicKeyInfos (32 octets each).</summary>
    public IReadOnlyList<byte[]> RelayServerTlsPins { get; init; } = [];

    /// <summary>SERVER-TLS-CA (ours), absolute (relative paths are under WDIR); null = the system's roots only.</summary>
    public string? RelayServerTlsCaPath { get; init; }

    /// <summary>MX-TLS (ours): true (MAY) = STARTTLS toward MX hosts that offer it, unverified.</summary>
    public bool MxTls { get; init; } = true;

    /// <summary>METRICS-PORT (ours): the Prometheus metrics endpoint; 0 = off.</summary>
    public int MetricsPort { get; init; }

    /// <summary>METRICS-ADDR (ours): the address the metrics endpoint listens on.</summary>
    public IPAddress MetricsAddress { get; init; } = IPAddress.Loopback;

    /// <summary>METRICS-TOKEN (ours): the bearer token GET /metrics must present; empty = none.</summary>
    public string MetricsToken { get; init; } = string.Empty;

    /// <summary>DKIM-DOMAIN (ours): From domains whose mail is signed (lower case); empty = no signing.</summary>
    public IReadOnlyList<string> DkimDomains { get; init; } = [];

    /// <summary>DKIM-SELECTOR (ours): one signature per selector.</summary>
    public IReadOnlyList<string> DkimSelectors { get; init; } = ["default"];

    /// <summary>DKIM-KEY (ours): the key file of each selector, absolute, in the order of <see cref="DkimSelectors"/>.</summary>
    public IReadOnlyList<string> DkimKeyPaths { get; init; } = [];

    /// <summary>Where DKIM-KEY and DKIM-SELECTOR were set (FILE:LINE, argument N, default), for errors about the key files.</summary>
    public string DkimKeySource { get; init; } = ParameterStore.DefaultSource;

    /// <summary>SUBMISSION-PORT (ours): the message submission port (RFC 6409); 0 = off.</summary>
    public int SubmissionPort { get; init; }

    /// <summary>SUBMISSION-TLS (ours): sessions on TLS-PORT follow the submission rules (RFC 8314).</summary>
    public bool SubmissionTls { get; init; }

    /// <summary>SUBMISSION-PLAINTEXT:LOOPBACK (ours): AUTH without TLS on the submission port from loopback clients.</summary>
    public bool SubmissionPlainLoopback { get; init; }

    /// <summary>SUBMISSION-RATE (ours): messages per user per minute on the submission rules; 0 = no limit.</summary>
    public int SubmissionRate { get; init; } = 30;

    /// <summary>SUBMISSION-ANY-SENDER (ours): users who may use any MAIL FROM address.</summary>
    public IReadOnlyList<string> SubmissionAnySenders { get; init; } = [];

    /// <summary>True when <paramref name="user"/> is listed in SUBMISSION-ANY-SENDER (case-insensitive, as user names are).</summary>
    public bool MayUseAnySender(string user)
    {
        foreach (string name in SubmissionAnySenders)
        {
            if (string.Equals(name, user, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>NODENAME.</summary>
    public string NodeName { get; init; } = "abilisfast";

    /// <summary>SINK.</summary>
    public bool Sink { get; init; }

    /// <summary>LOCAL-RCPT (ours): true (KNOWN) = only users, aliases and postmaster/abuse/root are local recipients; false (ANY) = any local part.</summary>
    public bool LocalRcptKnown { get; init; } = true;

    /// <summary>RECIPIENT-DELIMITER (ours): characters that start an address extension (bob+tag); empty = none.</summary>
    public string RecipientDelimiter { get; init; } = "+";

    /// <summary>True when the UTF-8 domain is one of LOCAL-DOMAIN (case-insensitive, whole name, either IDN form, no allocation).</summary>
    public bool IsLocalDomain(ReadOnlySpan<byte> utf8Domain) => _localDomains.Contains(utf8Domain);

    /// <summary>The index in LOCAL-DOMAIN of the UTF-8 domain, or -1 (no allocation).</summary>
    public int LocalDomainIndex(ReadOnlySpan<byte> utf8Domain) => _localDomains.IndexOf(utf8Domain);

    /// <summary>LOCAL-DOMAIN entry <paramref name="index"/> in lower-case ASCII (A-labels for IDN).</summary>
    public string LocalDomainAscii(int index) => _localDomains.AsciiNames[index];

    public override string ToString() =>
        $"SmtpSettings {{ TcpLocPort = {TcpLocPort}, SesTot = {SesTot}, WorkDir = {WorkDir}, HeloHost = {HeloHost} }}";
}
