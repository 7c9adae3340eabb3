using System.Globalization;
using System.Net;
using P = AbilisFast.Server.Configuration.ParameterNames;

namespace AbilisFast.Server.Configuration;

internal sealed partial record SmtpSettings
{
    /// <summary>Converts already-validated store values; relative WDIR is under <paramref name="currentDirectory"/>.</summary>
    internal static SmtpSettings Build(ParameterStore store, string currentDirectory)
    {
        string workDir = Path.GetFullPath(store.GetValue(P.WDir), currentDirectory);
        string? ipSrcList = NoneToNull(store.GetValue(P.IpSrcList));
        IPAddress? ipSrc = Address(store, P.IpSrc);
        SmtpSettings receiving = new()
        {
            Active = YesNo(store, P.Act),
            Log = YesNo(store, P.Log),
            TcpLocPort = Int(store, P.TcpLocPort),
            SesTot = Int(store, P.SesTot),
            SesReservedIn = Int(store, P.SesReservedIn),
            SesReservedOut = Int(store, P.SesReservedOut),
            InactivityTimeout = TimeSpan.FromSeconds(Int(store, P.Dt)),
            MaxIpSes = Int(store, P.MaxIpSes),
            MaxRcpt = Int(store, P.MaxRcpt),
            IpSrc = ipSrc,
            IpSrcList = ipSrcList,
            IpSrcAllowed = SourcesAllowed(store, ipSrc, ipSrcList),
            LocalDomains = ParameterValues.SplitDomains(store.GetValue(P.LocalDomain)),
            HeloHost = store.GetValue(P.HeloHost),
            WorkDir = workDir,
            MsgMaxSizeKiB = Int(store, P.MsgMaxSize),
            StoreMb = YesNo(store, P.StoreMb),
            MbMaxSizeKiB = Int(store, P.MbMaxSize),
            MbMaxMails = Int(store, P.MbMaxMails),
            RelayNets = NetList(store, store.GetValue(P.RelayNet)).Union(NetList(store, store.GetValue(P.RelayIpSrcList))),
            RelayAuth = store.GetValue(P.RelayAuth) == "ENABLED",
            AdminAddress = Address(store, P.AdminAddr),
            AdminPort = Int(store, P.AdminPort),
            TlsCertPath = UnderWorkDir(store.GetValue(P.TlsCert), workDir),
            TlsKeyPath = UnderWorkDir(store.GetValue(P.TlsKey), workDir),
            TlsRequired = YesNo(store, P.TlsRequired),
            AuthPlaintext = YesNo(store, P.AuthPlaintext),
            TlsPort = store.GetValue(P.TlsPort) == "#" ? null : Int(store, P.TlsPort),
            DataTimeout = TimeSpan.FromSeconds(Int(store, P.DataTimeout)),
            MinDataRate = Int(store, P.MinDataRate),
            DataRateWindow = TimeSpan.FromSeconds(Int(store, P.DataRateWindow)),
            LogMaxSizeKiB = Int(store, P.LogMaxSize),
            LogFiles = Int(store, P.LogFiles),
            MetricsPort = Int(store, P.MetricsPort),
            MetricsAddress = Address(store, P.MetricsAddr) ?? IPAddress.Loopback,
            MetricsToken = store.GetValue(P.MetricsToken),
            SubmissionPort = Int(store, P.SubmissionPort),
            SubmissionTls = YesNo(store, P.SubmissionTls),
            SubmissionPlainLoopback = store.GetValue(P.SubmissionPlaintext) == "LOOPBACK",
            SubmissionRate = Int(store, P.SubmissionRate),
            SubmissionAnySenders = ParameterValues.SplitList(store.GetValue(P.SubmissionAnySender)),
            NodeName = store.GetValue(P.NodeName),
            Sink = YesNo(store, P.Sink),
            LocalRcptKnown = store.GetValue(P.LocalRcpt) == "KNOWN",
            RecipientDelimiter = store.GetValue(P.RecipientDelimiter),
        };
        return WithDelivery(receiving, store, workDir);
    }

    /// <summary>The clients allowed to connect: IPSRC and the networks of the IPSRC-LIST list together.</summary>
    private static IpAccessList SourcesAllowed(ParameterStore store, IPAddress? ipSrc, string? ipSrcList)
    {
        IpAccessList allowed = IpAccessList.Empty;
        if (ipSrc is not null)
        {
            allowed = new IpAccessList([IpNetwork.FromAddress(ipSrc)]);
        }

        if (ipSrcList is not null)
        {
            allowed = allowed.Union(NetList(store, ipSrcList));
        }

        return allowed;
    }

    /// <summary>The settings of delivery: the relay server and its TLS, MX, retries, lifetimes, notifications, loops.</summary>
    private static SmtpSettings WithDelivery(SmtpSettings settings, ParameterStore store, string workDir)
    {
        string dns = store.GetValue(P.Dns);
        string[] selectors = ParameterValues.SplitList(store.GetValue(P.DkimSelector));
        string[] keys = ParameterValues.SplitList(store.GetValue(P.DkimKeyFile));
        string[] keyPaths = keys.Length == 0
            ? [.. selectors.Select(selector => Path.Combine(workDir, DkimKeyFolder, selector + ".key"))]
            : [.. keys.Select(key => Path.GetFullPath(key, workDir))];
        return settings with
        {
            SourceAddress = Address(store, P.SrcAdd),
            MaxFailNotif = Int(store, P.MaxFailNotif),
            QueueLifeTime = TimeSpan.FromSeconds(Int(store, P.QueueLifeTime)),
            MailTryDelay = TimeSpan.FromSeconds(Int(store, P.MailTryDelay)),
            RelayServer = EmptyToNull(store.GetValue(P.Server)),
            RelayServerTcpPort = Int(store, P.ServerTcpPort),
            RelayServerAuth = YesNo(store, P.ServerAuth),
            RelayServerUser = store.GetValue(P.ServerUser),
            RelayServerPassword = store.GetValue(P.ServerPwd),
            RelayServerSecurity = store.GetValue(P.ServerSecurity) switch
            {
                "STARTTLS" => Configuration.OutboundSecurity.StartTls,
                "TLS" => Configuration.OutboundSecurity.Tls,
                _ => Configuration.OutboundSecurity.None,
            },
            Dns = dns.Length == 0 ? null : ParameterValues.TryParseEndpoint(dns, out IPEndPoint ep) ? ep : null,
            QueueHold = YesNo(store, P.QueueHold),
            RelayServerAuthPlaintext = YesNo(store, P.ServerAuthPlaintext),
            MxPort = Int(store, P.MxPort),
            OutTimeout = TimeSpan.FromSeconds(Int(store, P.OutTimeout)),
            RelayServerTlsVerify = store.GetValue(P.ServerTlsVerify) switch
            {
                "NO" => TlsVerification.None,
                "PIN" => TlsVerification.Pin,
                _ => TlsVerification.Verify,
            },
            RelayServerTlsPins = ParameterValues.TryParsePins(store.GetValue(P.ServerTlsPin), out IReadOnlyList<byte[]> pins) ? pins : [],
            RelayServerTlsCaPath = UnderWorkDir(store.GetValue(P.ServerTlsCa), workDir),
            MxTls = store.GetValue(P.MxTls) == "MAY",
            HopLimit = Int(store, P.HopLimit),
            JunkCommandLimit = Int(store, P.JunkCmdLimit),
            Ipv6PrefixSes = Int(store, P.Ipv6PrefixSes),
            DelayNotifTime = TimeSpan.FromSeconds(Int(store, P.DelayNotifTime)),
            DkimDomains = [.. ParameterValues.SplitDomains(store.GetValue(P.DkimDomain)).Select(d => d.ToLowerInvariant())],
            DkimSelectors = selectors,
            DkimKeyPaths = keyPaths,
            DkimKeySource = keys.Length == 0 ? store.GetSource(P.DkimSelector) : store.GetSource(P.DkimKeyFile),
        };
    }

    /// <summary>Where DKIM keys are kept when DKIM-KEY is empty (WDIR/dkim/SELECTOR.key), and where <c>dkim keygen</c> writes them.</summary>
    public const string DkimKeyFolder = "dkim";

    private static bool YesNo(ParameterStore store, string name) => store.GetValue(name) == "YES";

    private static int Int(ParameterStore store, string name) =>
        int.Parse(store.GetValue(name), NumberStyles.None, CultureInfo.InvariantCulture);

    private static IPAddress? Address(ParameterStore store, string name) =>
        ParameterValues.TryParseAddress(store.GetValue(name), out IPAddress address) ? address : null;

    private static IpAccessList NetList(ParameterStore store, string text) =>
        NetListSyntax.TryParse(text, store.IpLists, out IpAccessList list, out string? reason)
            ? list
            : throw new ConfigurationException(reason ?? text);

    private static string? NoneToNull(string value) => value == "#" ? null : value;

    private static string? EmptyToNull(string value) => value.Length == 0 ? null : value;

    private static string? UnderWorkDir(string path, string workDir) =>
        path.Length == 0 ? null : Path.GetFullPath(path, workDir);
}
