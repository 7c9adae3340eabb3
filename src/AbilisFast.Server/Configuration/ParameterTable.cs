using P = AbilisFast.Server.Configuration.ParameterNames;

namespace AbilisFast.Server.Configuration;

/// <summary>
/// Every SMTP parameter, in the order <c>d p smtp</c> shows them. Defaults are the appliance's
/// (8.8) except where docs/abilis-smtp.md marks them "ours".
/// </summary>
internal static class ParameterTable
{
    public const string DefaultWorkDir = "abilisfast-data";

    public static ParameterDefinition[] All { get; } =
    [
        YesNo(P.Act, "YES", true, "resource active; NO accepts no TCP calls and makes none"),
        YesNo(P.Log, "NO", true, "also write session-log lines to a file in WDIR"),
        Port(P.TcpLocPort, 2525, false, "SMTP listening port"),
        Address(P.SrcAdd, "#", true, "source address for outgoing connections; # = any"),
        Int(P.SesTot, 10, 1, 65535, false, "total SMTP sessions (channels)"),
        Int(P.SesReservedIn, 2, 0, 65535, false, "channels kept for inbound sessions only"),
        Int(P.SesReservedOut, 2, 0, 65535, false, "channels kept for outbound sessions only; the rest are shared"),
        Int(P.Dt, 120, 1, 65535, true, "inactivity timeout in seconds; also the time one command line may take"),
        Int(P.MaxIpSes, 2, 1, 65535, true, "simultaneous inbound sessions from one IP address"),
        Int(P.MaxRcpt, 100, 1, 65535, true, "recipients per message"),
        Address(P.IpSrc, "127.0.0.1", true, "one client address allowed to connect; # = none"),
        new(P.IpSrcList, ParameterKind.IpListRef, NamedIpLists.PrivateIpAdd, "the name of a defined IP list, or #", true,
            "named IP list of clients allowed to connect; # = none"),
        new(P.LocalDomain, ParameterKind.DomainList, string.Empty, "empty, or comma-separated domain names (IDN in either form)", true,
            "mail domain(s) delivered to local mailboxes"),
        Text(P.HeloHost, "noname", true, "name given in the greeting and in our own HELO/EHLO"),
        new(P.WDir, ParameterKind.Path, DefaultWorkDir, "a folder path", false,
            "working directory: queue, mailboxes, ban list (relative: under the current directory)"),
        Int(P.MaxFailNotif, 50, 0, 65535, true, "cap on failure notifications waiting in the queue"),
        Int(P.MsgMaxSize, 65535, 1, 4194304, true, "maximum message size in KiB (advertised with SIZE)"),
        YesNo(P.StoreMb, "NO", true, "keep local mail in mailboxes"),
        Int(P.MbMaxSize, 5000, 1, 4194304, true, "per-mailbox cap in KiB"),
        Int(P.MbMaxMails, 1000, 1, 1000000, true, "per-mailbox cap in messages"),
        NetList(P.RelayNet, "networks allowed to relay to non-local domains"),
        NetList(P.RelayIpSrcList, "IP lists allowed to relay to non-local domains"),
        Enum(P.RelayAuth, "DISABLED", ["DISABLED", "ENABLED"], "clients that authenticated may relay"),
        Int(P.QueueLifeTime, 432000, 1, 31536000, true, "seconds a mail may stay queued before a lifetime notification"),
        Int(P.MailTryDelay, 300, 1, 86400, true, "seconds before a deferred mail is retried (later retries back off)"),
        new(P.Server, ParameterKind.Host, string.Empty, "empty, a host name or an IP address", true,
            "relay server (smarthost) for non-local domains; empty = deliver by MX"),
        Port(P.ServerTcpPort, 25, true, "TCP port of the relay server"),
        YesNo(P.ServerAuth, "NO", true, "authenticate to the relay server"),
        FreeText(P.ServerUser, ParameterKind.FreeText, "user name for the relay server"),
        FreeText(P.ServerPwd, ParameterKind.Password, "password for the relay server (shown masked)"),
        Enum(P.ServerSecurity, "NONE", ["NONE", "STARTTLS", "TLS"], "TLS toward the relay server"),
        Address(P.AdminAddr, "127.0.0.1", false, "address of the telnet-style admin port; # = no admin port"),
        Port(P.AdminPort, 2323, false, "TCP port of the admin port"),
        new(P.Dns, ParameterKind.Endpoint, string.Empty, "empty, a.b.c.d[:port] or [IPv6]:port", true,
            "resolver for MX and host look-ups; empty = system resolver"),
        YesNo(P.QueueHold, "NO", true, "YES keeps accepted mail queued without delivering it"),
        Port(P.MxPort, 25, true, "TCP port for delivery by MX (25; a lab or test may change it)"),
        new(P.TlsCert, ParameterKind.Path, string.Empty, "empty or a file path", false,
            "certificate file for STARTTLS; empty = self-signed, generated in WDIR", allowEmpty: true),
        new(P.TlsKey, ParameterKind.Path, string.Empty, "empty or a file path", false,
            "key file for STARTTLS; empty = generated in WDIR", allowEmpty: true),
        YesNo(P.TlsRequired, "NO", true, "require STARTTLS before MAIL"),
        YesNo(P.AuthPlaintext, "NO", true, "allow AUTH without TLS"),
        Int(P.OutTimeout, 300, 1, 3600, true,
            "seconds an OUT session waits for each reply of the remote server (twice that after the final dot); ours"),
        new(P.TlsPort, ParameterKind.PortOrNone, "#", "1..65535 or #", false,
            "second SMTP port with implicit TLS (handshake before the greeting); # = none", 1, 65535),
        Int(P.DataTimeout, 600, 0, 86400, true, "seconds one whole DATA or BDAT transfer may take; 0 = no limit"),
        Int(P.MinDataRate, 256, 0, 1048576, true,
            "bytes per second a DATA or BDAT transfer must keep up over each DATA-RATE-WINDOW; 0 = no minimum"),
        Int(P.DataRateWindow, 30, 1, 3600, true,
            "seconds of grace at the start of a transfer, and the length of each window MIN-DATA-RATE is measured over"),
        Int(P.LogMaxSize, 1024, 16, 1048576, true, "LOG:YES: size in KiB at which WDIR/log/smtp.log is rotated"),
        Int(P.LogFiles, 3, 1, 100, true, "LOG:YES: log files kept, smtp.log included (smtp.log.1 is the previous one)"),
        Enum(P.ServerTlsVerify, "YES", ["YES", "NO", "PIN"],
            "check the relay server's certificate: YES chain and name, NO encrypt only, PIN the key in SERVER-TLS-PIN"),
        new(P.ServerTlsPin, ParameterKind.PinList, string.Empty, "empty, or up to 16 base64 SHA-256 digests (44 characters) separated by commas", true,
            "SHA-256 of the relay server's SubjectPublicKeyInfo, base64 (for SERVER-TLS-VERIFY:PIN)"),
        new(P.ServerTlsCa, ParameterKind.Path, string.Empty, "empty or a file path", true,
            "PEM file of extra trust anchors for the relay server's certificate; empty = the system's only", allowEmpty: true),
        Enum(P.MxTls, "MAY", ["MAY", "NONE"], "STARTTLS toward MX hosts: MAY when offered (not verified), NONE never"),
        YesNo(P.ServerAuthPlaintext, "NO", true, "allow SERVER-AUTH to send SERVER-USER/SERVER-PWD over a connection without TLS; ours"),
        Int(P.HopLimit, 100, 1, 1000, true,
            "most Received: header fields a message may carry, ours included; more is refused with 554 5.4.6 (mail loop); ours"),
        Int(P.DelayNotifTime, 14400, 0, 31536000, true,
            "seconds a message may wait before a NOTIFY=DELAY recipient gets one delay report; 0 = never; ours"),
        Int(P.MetricsPort, 0, 0, 65535, false, "port of the Prometheus metrics endpoint (GET /metrics over HTTP); 0 = off; ours"),
        new(P.MetricsAddr, ParameterKind.IpAddress, "127.0.0.1", "an IP address", false,
            "address the metrics endpoint listens on (a non-loopback one is warned about at start); ours"),
        new(P.MetricsToken, ParameterKind.Password, string.Empty, "empty, or 16..256 visible ASCII characters", true,
            "bearer token GET /metrics must present (Authorization: Bearer TOKEN); empty = none; ours", 16, 256),
        new(P.DkimDomain, ParameterKind.DomainList, string.Empty, "empty, or comma-separated domain names", true,
            "DKIM-sign mail leaving by MX or SERVER whose From domain is one of these (d= that domain); empty = no signing; ours"),
        new(P.DkimSelector, ParameterKind.SelectorList, "default", "selectors (letters, digits, '-', '.') separated by commas, at most 8", true,
            "DKIM selector(s); each signs with its own key, so a message carries one signature per selector; ours"),
        new(P.DkimKeyFile, ParameterKind.PathList, string.Empty, "empty, or file paths separated by commas, one per DKIM-SELECTOR", true,
            "PEM private key per selector (RSA or Ed25519; relative paths are under WDIR); empty = WDIR/dkim/SELECTOR.key; ours",
            allowEmpty: true),
        Int(P.JunkCmdLimit, 100, 1, 65535, true,
            "NOOP, RSET, VRFY and HELP a session may send before each further one counts as an error (1 while all channels are busy); ours"),
        Int(P.Ipv6PrefixSes, 64, 48, 128, true,
            "prefix length by which MAX-IP-SES and IPBAN count IPv6 clients (one network, one client; 128 = each address); ours"),
        Int(P.SubmissionPort, 0, 0, 65535, false,
            "message submission port (RFC 6409; 587): AUTH before MAIL, senders the user owns; 0 = off; ours"),
        YesNo(P.SubmissionTls, "NO", true, "YES: sessions on TLS-PORT follow the submission rules (RFC 8314 implicit TLS); ours"),
        Enum(P.SubmissionPlaintext, "NO", ["NO", "LOOPBACK"],
            "AUTH without TLS on the submission port: NO never, LOOPBACK from clients on 127.0.0.0/8 and ::1; ours"),
        Int(P.SubmissionRate, 30, 0, 65535, true,
            "messages one submission user may send per minute; more get 450 4.7.1 until the minute is over; 0 = no limit; ours"),
        new(P.SubmissionAnySender, ParameterKind.NameList, string.Empty, "empty, or user names separated by commas", true,
            "users who may submit with any MAIL FROM address (others only their own); ours"),
        Text(P.NodeName, DefaultNodeName(), true, "node name in the console prompt"),
        YesNo(P.Sink, "NO", true, "benchmarking: accept and discard every message"),
        Enum(P.LocalRcpt, "KNOWN", ["KNOWN", "ANY"],
            "local recipients: KNOWN users with the mail right, aliases, postmaster/abuse/root (others 550 5.1.1 at RCPT); ANY every local part (labs); ours"),
        new(P.RecipientDelimiter, ParameterKind.Delimiters, "+", "empty, or up to 4 of + - _ = .", true,
            "address extension: bob+tag@ is delivered to bob; each character given starts one; empty = none; ours", allowEmpty: true),
    ];

    private static readonly Dictionary<string, int> IndexByName = BuildIndex();

    public static int Count => All.Length;

    /// <summary>Finds a parameter by name, case-insensitively.</summary>
    public static bool TryFind(ReadOnlySpan<char> name, out int index) =>
        IndexByName.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out index);

    public static ParameterDefinition Get(string name) =>
        TryFind(name, out int index) ? All[index] : throw new KeyNotFoundException(name);

    private static Dictionary<string, int> BuildIndex()
    {
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < All.Length; i++)
        {
            index.Add(All[i].Name, i);
        }

        return index;
    }

    /// <summary>The machine's host name when it is a valid NODENAME, otherwise "abilisfast".</summary>
    private static string DefaultNodeName()
    {
        string name = Environment.MachineName;
        return ParameterValues.IsHostNameText(name) ? name : "abilisfast";
    }

    private static ParameterDefinition YesNo(string name, string value, bool live, string meaning) =>
        new(name, ParameterKind.YesNo, value, "YES or NO", live, meaning);

    private static ParameterDefinition Int(string name, long value, long min, long max, bool live, string meaning) =>
        new(name, ParameterKind.Int, value.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{min}..{max}",
            live, meaning, min, max);

    private static ParameterDefinition Port(string name, int value, bool live, string meaning) =>
        new(name, ParameterKind.Port, value.ToString(System.Globalization.CultureInfo.InvariantCulture), "1..65535",
            live, meaning, 1, 65535);

    private static ParameterDefinition Address(string name, string value, bool live, string meaning) =>
        new(name, ParameterKind.Address, value, "an IP address or #", live, meaning);

    private static ParameterDefinition Text(string name, string value, bool live, string meaning) =>
        new(name, ParameterKind.Text, value, "1..255 letters, digits, '.', '-' or '_'", live, meaning);

    /// <summary>SERVER-USER and SERVER-PWD: any text, empty by default.</summary>
    private static ParameterDefinition FreeText(string name, ParameterKind kind, string meaning) =>
        new(name, kind, string.Empty, "any text without control characters (quote it if it holds spaces)", true, meaning);

    private static ParameterDefinition NetList(string name, string meaning) =>
        new(name, ParameterKind.NetList, "#", NetListSyntax.Allowed, true, meaning);

    private static ParameterDefinition Enum(string name, string value, string[] choices, string meaning) =>
        new(name, ParameterKind.Enum, value, string.Join(", ", choices[..^1]) + " or " + choices[^1], true, meaning,
            choices: choices);
}
