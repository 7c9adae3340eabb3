namespace AbilisFast.Server.Tests.Configuration;

public sealed class ConfigFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void DefaultsWithNoFile()
    {
        SmtpSettings s = ConfigurationLoader.Load(CommandLine.Parse([]), _dir.Path);
        Assert.True(s.Active);
        Assert.False(s.Log);
        Assert.Equal(2525, s.TcpLocPort);
        Assert.Null(s.SourceAddress);
        Assert.Equal(10, s.SesTot);
        Assert.Equal(2, s.SesReservedIn);
        Assert.Equal(2, s.SesReservedOut);
        Assert.Equal(6, s.SesShared);
        Assert.Equal(TimeSpan.FromSeconds(120), s.InactivityTimeout);
        Assert.Equal(2, s.MaxIpSes);
        Assert.Equal(100, s.MaxRcpt);
        Assert.Equal(IPAddress.Loopback, s.IpSrc);
        Assert.Equal("PrivateIpAdd", s.IpSrcList);
        Assert.True(s.IpSrcAllowed.Contains(IPAddress.Parse("192.168.1.1")));
        Assert.False(s.IpSrcAllowed.Contains(IPAddress.Parse("8.8.8.8")));
        Assert.Empty(s.LocalDomains);
        Assert.Equal("noname", s.HeloHost);
        Assert.Equal(Path.Combine(_dir.Path, "abilisfast-data"), s.WorkDir);
        Assert.Equal(50, s.MaxFailNotif);
        Assert.Equal(65535, s.MsgMaxSizeKiB);
        Assert.Equal(65535L * 1024, s.MsgMaxSizeBytes);
        Assert.False(s.StoreMb);
        Assert.Equal(5000L * 1024, s.MbMaxSizeBytes);
        Assert.Equal(1000, s.MbMaxMails);
        Assert.True(s.RelayNets.IsEmpty);
        Assert.False(s.RelayAuth);
        Assert.Equal(TimeSpan.FromSeconds(432000), s.QueueLifeTime);
        Assert.Equal(TimeSpan.FromSeconds(300), s.MailTryDelay);
        Assert.Null(s.RelayServer);
        Assert.Equal(25, s.RelayServerTcpPort);
        Assert.False(s.RelayServerAuth);
        Assert.Equal(string.Empty, s.RelayServerUser);
        Assert.Equal(string.Empty, s.RelayServerPassword);
        Assert.Equal(OutboundSecurity.None, s.RelayServerSecurity);
        Assert.Equal(IPAddress.Loopback, s.AdminAddress);
        Assert.Equal(2323, s.AdminPort);
        Assert.Null(s.Dns);
        Assert.False(s.QueueHold);
        Assert.Null(s.TlsCertPath);
        Assert.Null(s.TlsKeyPath);
        Assert.False(s.TlsRequired);
        Assert.False(s.AuthPlaintext);
        Assert.False(string.IsNullOrEmpty(s.NodeName));
        Assert.False(s.Sink);
    }

    [Fact]
    public void CommentsMultipleTokensQuotesAndHashValues()
    {
        string file = _dir.Write("abilisfast.conf", """
            # a comment line
              # an indented comment
            TCP-LOCPORT:2526 SES-TOT:20   DT:60 # trailing comment SES-TOT:99
            RELAY-NET:# RELAY-IPSRCLIST:#
            server-pwd:"pa ss#word"  HELOHOST:mx.example.com
            SERVER-USER:"relay user"

            local-domain:"example.com, example.org"
            sink:yes
            """);
        SmtpSettings s = Load(file);
        Assert.Equal(2526, s.TcpLocPort);
        Assert.Equal(20, s.SesTot);
        Assert.Equal(TimeSpan.FromSeconds(60), s.InactivityTimeout);
        Assert.True(s.RelayNets.IsEmpty);
        Assert.Equal("pa ss#word", s.RelayServerPassword);
        Assert.Equal("relay user", s.RelayServerUser);
        Assert.Equal("mx.example.com", s.HeloHost);
        Assert.Equal(["example.com", "example.org"], s.LocalDomains);
        Assert.True(s.Sink);
    }

    [Fact]
    public void ValueSourceIsFileAndLine()
    {
        string file = _dir.Write("abilisfast.conf", "# x\n\nDT:30\n");
        ParameterStore store = ConfigurationLoader.LoadStore(CommandLine.Parse(["--config", file]));
        Assert.Equal($"{file}:3", store.GetSource("DT"));
        Assert.Equal("default", store.GetSource("SES-TOT"));
    }

    [Theory]
    [InlineData("DT:30\nSES-TOT:0\n", "{0}:2: SES-TOT:0 is invalid: allowed 1..65535")]
    [InlineData("DT:30 FOO:1\n", "{0}:1: FOO:1 is not a parameter (see --help)")]
    [InlineData("\n\n\nHELOHOST:\"a b\"\n", "{0}:4: HELOHOST:a b is invalid: allowed 1..255 letters, digits, '.', '-' or '_'")]
    [InlineData("DT:30 oops\n", "{0}:1: oops is not NAME:VALUE (see --help)")]
    [InlineData("SERVER-PWD:\"abc\n", "{0}:1: SERVER-PWD:\"... is invalid: unterminated quote")]
    [InlineData("RELAY-NET:Office\n", "{0}:1: RELAY-NET:Office is invalid: Office is not a defined IP list; allowed " + NetListSyntax.Allowed)]
    [InlineData("RELAY-NET:Office\niplist Office: 10/8\n", "{0}:1: RELAY-NET:Office is invalid: Office is not a defined IP list; allowed " + NetListSyntax.Allowed)]
    [InlineData("iplist Office: 10/8, 300/8\n", "{0}:1: iplist Office:10/8, 300/8 is invalid: allowed " + NetListSyntax.Allowed)]
    [InlineData("iplist Office: 10/8, Branch\n", "{0}:1: iplist Office:10/8, Branch is invalid: Branch is not a defined IP list; allowed " + NetListSyntax.Allowed)]
    [InlineData("iplist Office: 10/8\niplist Office: Office, 10.1.0.0/16\n", "{0}:2: iplist Office:Office, 10.1.0.0/16 is invalid: Office names the list being defined; allowed " + NetListSyntax.Allowed)]
    [InlineData("iplist Office: office\n", "{0}:1: iplist Office:office is invalid: Office names the list being defined; allowed " + NetListSyntax.Allowed)]
    [InlineData("iplist 9lives: 10/8\n", "{0}:1: iplist 9lives is invalid: a list name is 1..32 letters, digits, '-' or '_', starting with a letter")]
    [InlineData("iplist 10/8\n", "{0}:1: iplist 10/8 is invalid: allowed iplist NAME: net, net, ...")]
    [InlineData("SES-TOT:3\n", "{0}:1: SES-RESERVED-IN:2 SES-RESERVED-OUT:2 SES-TOT:3 is invalid: allowed SES-RESERVED-IN + SES-RESERVED-OUT <= SES-TOT")]
    public void ErrorsAreOneLineNamingSource(string content, string expected)
    {
        string file = _dir.Write("abilisfast.conf", content);
        ConfigurationException e = Assert.Throws<ConfigurationException>(() => Load(file));
        Assert.Equal(string.Format(expected, file), e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ErrorUsesTheDisplayName()
    {
        string file = _dir.Write("abilisfast.conf", string.Concat(Enumerable.Repeat("DT:1\n", 11)) + "SES-TOT:0\n");
        ConfigurationException e = Assert.Throws<ConfigurationException>(
            () => ConfigFileReader.Apply(new ParameterStore(), file, "abilisfast.conf"));
        Assert.Equal("abilisfast.conf:12: SES-TOT:0 is invalid: allowed 1..65535", e.Message);
    }

    [Fact]
    public void MissingConfigFileIsAnError()
    {
        string missing = Path.Combine(_dir.Path, "nope.conf");
        ConfigurationException e = Assert.Throws<ConfigurationException>(
            () => ConfigurationLoader.Load(CommandLine.Parse(["DT:5", "--config", missing])));
        Assert.Equal($"argument 2: --config {missing}: no such file", e.Message);
    }

    [Fact]
    public void IpListDefinitionsAndReferences()
    {
        string file = _dir.Write("abilisfast.conf", """
            IPLIST Office: 192.0.2.0/24, 2001:db8::/32   # the office
            iplist Branch: 198.51.100.7, office
            ipsrclist:branch IPSRC:#
            RELAY-NET:203.0.113.0/24,Office RELAY-IPSRCLIST:PrivateIpAdd
            iplist Office: 192.0.2.128/25
            """);
        SmtpSettings s = Load(file);
        Assert.Equal("branch", s.IpSrcList);
        Assert.Null(s.IpSrc);
        Assert.True(s.IpSrcAllowed.Contains(IPAddress.Parse("198.51.100.7")));
        Assert.True(s.IpSrcAllowed.Contains(IPAddress.Parse("192.0.2.1")));
        Assert.True(s.IpSrcAllowed.Contains(IPAddress.Parse("2001:db8::5")));
        Assert.False(s.IpSrcAllowed.Contains(IPAddress.Loopback));

        // RELAY-NET resolves Office at build time: the later definition replaced it.
        Assert.True(s.RelayNets.Contains(IPAddress.Parse("203.0.113.9")));
        Assert.True(s.RelayNets.Contains(IPAddress.Parse("192.0.2.200")));
        Assert.False(s.RelayNets.Contains(IPAddress.Parse("192.0.2.1")));
        Assert.True(s.RelayNets.Contains(IPAddress.Parse("10.1.2.3")));
        Assert.True(s.RelayNets.Contains(IPAddress.Parse("::ffff:10.1.2.3")));
        Assert.False(s.RelayNets.Contains(IPAddress.Parse("8.8.8.8")));
    }

    [Theory]
    [InlineData("iplist Nobody: # nothing here\n")]
    [InlineData("iplist Nobody:#\n")]
    [InlineData("iplist Nobody:\n")]
    public void AnEmptyIpListIsWrittenHash(string content)
    {
        // save conf writes "iplist Nobody: #", which reads back as an empty value: both are "#".
        string file = _dir.Write("abilisfast.conf", content);
        ParameterStore store = ConfigurationLoader.LoadStore(CommandLine.Parse(["--config", file]));
        Assert.Equal("#", store.IpLists.Describe("Nobody").Text);
    }

    [Fact]
    public void EmptyIpListAndNoneMeanNobody()
    {
        string file = _dir.Write("abilisfast.conf", "iplist Nobody: # nothing here\nIPSRCLIST:Nobody IPSRC:#\n");
        SmtpSettings s = Load(file);
        Assert.True(s.IpSrcAllowed.IsEmpty);
        Assert.False(s.IpSrcAllowed.Contains(IPAddress.Loopback));
    }

    [Fact]
    public void CommandLineOverridesFile()
    {
        string file = _dir.Write("abilisfast.conf", "SES-TOT:20 DT:60 WDIR:fromfile\n");
        ParameterStore store = ConfigurationLoader.LoadStore(
            CommandLine.Parse(["--config", file, "ses-tot:30", "--wdir", "fromwdir"]));
        Assert.Equal("30", store.GetValue("SES-TOT"));
        Assert.Equal("argument 3", store.GetSource("SES-TOT"));
        Assert.Equal("60", store.GetValue("DT"));
        Assert.Equal("fromwdir", store.GetValue("WDIR"));
        Assert.Equal("argument 4", store.GetSource("WDIR"));
    }

    [Fact]
    public void LaterOfWdirAndWdirParameterWins()
    {
        SmtpSettings a = ConfigurationLoader.Load(CommandLine.Parse(["--wdir", "one", "WDIR:two"]), _dir.Path);
        Assert.Equal(Path.Combine(_dir.Path, "two"), a.WorkDir);
        SmtpSettings b = ConfigurationLoader.Load(CommandLine.Parse(["WDIR:two", "--wdir=one"]), _dir.Path);
        Assert.Equal(Path.Combine(_dir.Path, "one"), b.WorkDir);
    }

    [Fact]
    public void TypedValuesFromFile()
    {
        string file = _dir.Write("abilisfast.conf", """
            SRCADD:192.0.2.10 SERVER:smtp.example.net SERVER-TCP-PORT:587 SERVER-SECURITY:starttls
            DNS:[::1]:5353 ADMIN-ADDR:# TLS-CERT:certs/c.pem TLS-KEY:/etc/k.pem WDIR:/srv/af
            RELAY-AUTH:enabled MSG-MAXSIZE:10 QUEUE-HOLD:YES NODENAME:cpx1
            """);
        SmtpSettings s = Load(file);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), s.SourceAddress);
        Assert.Equal("smtp.example.net", s.RelayServer);
        Assert.Equal(587, s.RelayServerTcpPort);
        Assert.Equal(OutboundSecurity.StartTls, s.RelayServerSecurity);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 5353), s.Dns);
        Assert.Null(s.AdminAddress);
        Assert.Equal("/srv/af", s.WorkDir);
        Assert.Equal("/srv/af/certs/c.pem", s.TlsCertPath);
        Assert.Equal("/etc/k.pem", s.TlsKeyPath);
        Assert.True(s.RelayAuth);
        Assert.Equal(10240, s.MsgMaxSizeBytes);
        Assert.True(s.QueueHold);
        Assert.Equal("cpx1", s.NodeName);
    }

    [Fact]
    public void DnsWithoutPortUses53()
    {
        SmtpSettings s = ConfigurationLoader.Load(CommandLine.Parse(["DNS:127.0.0.1"]), _dir.Path);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 53), s.Dns);
    }

    private SmtpSettings Load(string file) =>
        ConfigurationLoader.Load(CommandLine.Parse(["--config", file]), _dir.Path);
}
