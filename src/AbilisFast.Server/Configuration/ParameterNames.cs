namespace AbilisFast.Server.Configuration;

/// <summary>Parameter names as Abilis spells them.</summary>
internal static class ParameterNames
{
    public const string Act = "ACT";
    public const string Log = "LOG";
    public const string TcpLocPort = "TCP-LOCPORT";
    public const string SrcAdd = "SRCADD";
    public const string SesTot = "SES-TOT";
    public const string SesReservedIn = "SES-RESERVED-IN";
    public const string SesReservedOut = "SES-RESERVED-OUT";
    public const string Dt = "DT";
    public const string MaxIpSes = "MAX-IP-SES";
    public const string MaxRcpt = "MAX-RCPT";
    public const string IpSrc = "IPSRC";
    public const string IpSrcList = "IPSRCLIST";
    public const string LocalDomain = "LOCAL-DOMAIN";
    public const string HeloHost = "HELOHOST";
    public const string WDir = "WDIR";
    public const string MaxFailNotif = "MAX-FAIL-NOTIF";
    public const string MsgMaxSize = "MSG-MAXSIZE";
    public const string StoreMb = "STORE-MB";
    public const string MbMaxSize = "MB-MAXSIZE";
    public const string MbMaxMails = "MB-MAXMAILS";
    public const string RelayNet = "RELAY-NET";
    public const string RelayIpSrcList = "RELAY-IPSRCLIST";
    public const string RelayAuth = "RELAY-AUTH";
    public const string QueueLifeTime = "QUEUE-LIFE-TIME";
    public const string MailTryDelay = "MAIL-TRY-DELAY";
    public const string Server = "SERVER";
    public const string ServerTcpPort = "SERVER-TCP-PORT";
    public const string ServerAuth = "SERVER-AUTH";
    public const string ServerUser = "SERVER-USER";
    public const string ServerPwd = "SERVER-PWD";
    public const string ServerSecurity = "SERVER-SECURITY";
    public const string AdminAddr = "ADMIN-ADDR";
    public const string AdminPort = "ADMIN-PORT";
    public const string Dns = "DNS";
    public const string QueueHold = "QUEUE-HOLD";
    public const string MxPort = "MX-PORT";
    public const string TlsCert = "TLS-CERT";
    public const string TlsKey = "TLS-KEY";
    public const string TlsRequired = "TLS-REQUIRED";
    public const string AuthPlaintext = "AUTH-PLAINTEXT";
    public const string OutTimeout = "OUT-TIMEOUT";
    public const string TlsPort = "TLS-PORT";
    public const string DataTimeout = "DATA-TIMEOUT";
    public const string MinDataRate = "MIN-DATA-RATE";
    public const string DataRateWindow = "DATA-RATE-WINDOW";
    public const string LogMaxSize = "LOG-MAX-SIZE";
    public const string LogFiles = "LOG-FILES";
    public const string ServerTlsVerify = "SERVER-TLS-VERIFY";
    public const string ServerTlsPin = "SERVER-TLS-PIN";
    public const string ServerTlsCa = "SERVER-TLS-CA";
    public const string MxTls = "MX-TLS";
    public const string NodeName = "NODENAME";
    public const string Sink = "SINK";
}
