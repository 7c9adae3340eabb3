namespace AbilisFast.Server.Tests.Configuration;

public sealed class ParameterStoreTests
{
    private static readonly string[] DocumentedNames =
    [
        "ACT", "LOG", "TCP-LOCPORT", "SRCADD", "SES-TOT", "SES-RESERVED-IN", "SES-RESERVED-OUT", "DT",
        "MAX-IP-SES", "MAX-RCPT", "IPSRC", "IPSRCLIST", "LOCAL-DOMAIN", "HELOHOST", "WDIR", "MAX-FAIL-NOTIF",
        "MSG-MAXSIZE", "STORE-MB", "MB-MAXSIZE", "MB-MAXMAILS", "RELAY-NET", "RELAY-IPSRCLIST", "RELAY-AUTH",
        "QUEUE-LIFE-TIME", "MAIL-TRY-DELAY", "SERVER", "SERVER-TCP-PORT", "SERVER-AUTH", "SERVER-USER",
        "SERVER-PWD", "SERVER-SECURITY", "ADMIN-ADDR", "ADMIN-PORT", "DNS", "QUEUE-HOLD", "MX-PORT", "TLS-CERT", "TLS-KEY",
        "TLS-REQUIRED", "AUTH-PLAINTEXT", "OUT-TIMEOUT", "TLS-PORT", "DATA-TIMEOUT", "MIN-DATA-RATE", "DATA-RATE-WINDOW", "LOG-MAX-SIZE", "LOG-FILES",
        "SERVER-TLS-VERIFY", "SERVER-TLS-PIN", "SERVER-TLS-CA", "MX-TLS", "SERVER-AUTH-PLAINTEXT",
        "HOP-LIMIT", "DELAY-NOTIF-TIME",
        "METRICS-PORT", "METRICS-ADDR", "METRICS-TOKEN", "DKIM-DOMAIN", "DKIM-SELECTOR", "DKIM-KEY", "JUNK-CMD-LIMIT", "IPV6-PREFIX-SES",
        "SUBMISSION-PORT", "SUBMISSION-TLS", "SUBMISSION-PLAINTEXT", "SUBMISSION-RATE", "SUBMISSION-ANY-SENDER", "NODENAME", "SINK",
        "LOCAL-RCPT", "RECIPIENT-DELIMITER",
    ];

    public static TheoryData<string> AllNames() => new(ParameterTable.All.Select(d => d.Name));

    public static TheoryData<string, string> Defaults() => new()
    {
        { "ACT", "YES" }, { "LOG", "NO" }, { "TCP-LOCPORT", "2525" }, { "SRCADD", "#" }, { "SES-TOT", "10" },
        { "SES-RESERVED-IN", "2" }, { "SES-RESERVED-OUT", "2" }, { "DT", "120" }, { "MAX-IP-SES", "2" },
        { "MAX-RCPT", "100" }, { "IPSRC", "127.0.0.1" }, { "IPSRCLIST", "PrivateIpAdd" }, { "LOCAL-DOMAIN", "" },
        { "HELOHOST", "noname" }, { "WDIR", "abilisfast-data" }, { "MAX-FAIL-NOTIF", "50" },
        { "MSG-MAXSIZE", "65535" }, { "STORE-MB", "NO" }, { "MB-MAXSIZE", "5000" }, { "MB-MAXMAILS", "1000" },
        { "RELAY-NET", "#" }, { "RELAY-IPSRCLIST", "#" }, { "RELAY-AUTH", "DISABLED" },
        { "QUEUE-LIFE-TIME", "432000" }, { "MAIL-TRY-DELAY", "300" }, { "SERVER", "" },
        { "SERVER-TCP-PORT", "25" }, { "SERVER-AUTH", "NO" }, { "SERVER-USER", "" }, { "SERVER-PWD", "" },
        { "SERVER-SECURITY", "NONE" }, { "ADMIN-ADDR", "127.0.0.1" }, { "ADMIN-PORT", "2323" }, { "DNS", "" },
        { "QUEUE-HOLD", "NO" }, { "MX-PORT", "25" }, { "TLS-CERT", "" }, { "TLS-KEY", "" }, { "TLS-REQUIRED", "NO" },
        { "AUTH-PLAINTEXT", "NO" }, { "OUT-TIMEOUT", "300" }, { "TLS-PORT", "#" }, { "DATA-TIMEOUT", "600" }, { "MIN-DATA-RATE", "256" },
        { "DATA-RATE-WINDOW", "30" }, { "LOG-MAX-SIZE", "1024" }, { "LOG-FILES", "3" }, { "SERVER-TLS-VERIFY", "YES" }, { "SERVER-TLS-PIN", "" },
        { "SERVER-TLS-CA", "" }, { "MX-TLS", "MAY" }, { "SERVER-AUTH-PLAINTEXT", "NO" },
        { "HOP-LIMIT", "100" }, { "DELAY-NOTIF-TIME", "14400" },
        { "METRICS-PORT", "0" }, { "METRICS-ADDR", "127.0.0.1" }, { "METRICS-TOKEN", "" }, { "DKIM-DOMAIN", "" },
        { "DKIM-SELECTOR", "default" }, { "DKIM-KEY", "" }, { "JUNK-CMD-LIMIT", "100" }, { "IPV6-PREFIX-SES", "64" },
        { "SUBMISSION-PORT", "0" }, { "SUBMISSION-TLS", "NO" }, { "SUBMISSION-PLAINTEXT", "NO" }, { "SUBMISSION-RATE", "30" },
        { "SUBMISSION-ANY-SENDER", "" }, { "SINK", "NO" },
        { "LOCAL-RCPT", "KNOWN" }, { "RECIPIENT-DELIMITER", "+" },
    };

    [Fact]
    public void TableHasExactlyTheDocumentedParametersInOrder()
    {
        Assert.Equal(DocumentedNames, ParameterTable.All.Select(d => d.Name));
        Assert.All(ParameterTable.All, d => Assert.False(string.IsNullOrWhiteSpace(d.Meaning)));
        Assert.All(ParameterTable.All, d => Assert.False(string.IsNullOrWhiteSpace(d.Allowed)));
    }

    [Theory]
    [MemberData(nameof(Defaults))]
    public void DefaultsMatchTheDocument(string name, string expected)
    {
        var store = new ParameterStore();
        Assert.Equal(expected, store.GetValue(name));
        Assert.Equal("default", store.GetSource(name));
    }

    [Fact]
    public void NodeNameDefaultsToAValidName()
    {
        string node = new ParameterStore().GetValue("NODENAME");
        Assert.True(node == Environment.MachineName || node == "abilisfast");
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void DefaultRoundTripsThroughFormatAndTrySet(string name)
    {
        var store = new ParameterStore();
        string line = store.Format(revealSecrets: true).Single(l => l.StartsWith(name + ":", StringComparison.Ordinal));
        var other = new ParameterStore();
        ConfigFileReader.ApplyLines(other, [line], "t.conf");
        Assert.Equal(store.GetValue(name), other.GetValue(name));
        Assert.Equal("t.conf:1", other.GetSource(name));
    }

    [Theory]
    [InlineData("ACT", "no", "NO")]
    [InlineData("LOG", "Yes", "YES")]
    [InlineData("TCP-LOCPORT", "25", "25")]
    [InlineData("TCP-LOCPORT", "65535", "65535")]
    [InlineData("SRCADD", "192.0.2.1", "192.0.2.1")]
    [InlineData("SRCADD", "2001:db8::1", "2001:db8::1")]
    [InlineData("SES-TOT", "65535", "65535")]
    [InlineData("SES-TOT", "007", "7")]
    [InlineData("SES-RESERVED-IN", "0", "0")]
    [InlineData("SES-RESERVED-OUT", "3", "3")]
    [InlineData("DT", "1", "1")]
    [InlineData("MAX-IP-SES", "20", "20")]
    [InlineData("MAX-RCPT", "1000", "1000")]
    [InlineData("IPSRC", "#", "#")]
    [InlineData("IPSRCLIST", "privateipadd", "privateipadd")]
    [InlineData("IPSRCLIST", "#", "#")]
    [InlineData("LOCAL-DOMAIN", "Example.com, mail.example.org.", "Example.com,mail.example.org")]
    [InlineData("LOCAL-DOMAIN", "", "")]
    [InlineData("HELOHOST", "mx1.example.com", "mx1.example.com")]
    [InlineData("WDIR", "/var/lib/abilisfast", "/var/lib/abilisfast")]
    [InlineData("MAX-FAIL-NOTIF", "0", "0")]
    [InlineData("MSG-MAXSIZE", "10240", "10240")]
    [InlineData("STORE-MB", "YES", "YES")]
    [InlineData("MB-MAXSIZE", "1", "1")]
    [InlineData("MB-MAXMAILS", "1000000", "1000000")]
    [InlineData("RELAY-NET", "10/8, 192.168.1.0/24,::1/128", "10/8,192.168.1.0/24,::1/128")]
    [InlineData("RELAY-NET", "", "#")]
    [InlineData("RELAY-IPSRCLIST", "PrivateIpAdd", "PrivateIpAdd")]
    [InlineData("RELAY-AUTH", "enabled", "ENABLED")]
    [InlineData("QUEUE-LIFE-TIME", "3600", "3600")]
    [InlineData("MAIL-TRY-DELAY", "86400", "86400")]
    [InlineData("SERVER", "smtp.example.net", "smtp.example.net")]
    [InlineData("SERVER", "192.0.2.25", "192.0.2.25")]
    [InlineData("SERVER-TCP-PORT", "587", "587")]
    [InlineData("SERVER-AUTH", "yes", "YES")]
    [InlineData("SERVER-USER", "relay@example.com", "relay@example.com")]
    [InlineData("SERVER-PWD", "s3cr#t pass", "s3cr#t pass")]
    [InlineData("SERVER-SECURITY", "starttls", "STARTTLS")]
    [InlineData("ADMIN-ADDR", "::1", "::1")]
    [InlineData("ADMIN-ADDR", "#", "#")]
    [InlineData("ADMIN-PORT", "1", "1")]
    [InlineData("DNS", "127.0.0.1", "127.0.0.1")]
    [InlineData("DNS", "127.0.0.1:5353", "127.0.0.1:5353")]
    [InlineData("DNS", "[::1]:5353", "[::1]:5353")]
    [InlineData("QUEUE-HOLD", "YES", "YES")]
    [InlineData("TLS-CERT", "cert.pem", "cert.pem")]
    [InlineData("TLS-KEY", "/etc/abilisfast/key.pem", "/etc/abilisfast/key.pem")]
    [InlineData("TLS-REQUIRED", "YES", "YES")]
    [InlineData("AUTH-PLAINTEXT", "YES", "YES")]
    [InlineData("TLS-PORT", "465", "465")]
    [InlineData("TLS-PORT", " 0465 ", "465")]
    [InlineData("TLS-PORT", "#", "#")]
    [InlineData("NODENAME", "cpx-01", "cpx-01")]
    [InlineData("SERVER-TLS-VERIFY", "pin", "PIN")]
    [InlineData("SERVER-TLS-VERIFY", "no", "NO")]
    [InlineData("SERVER-TLS-PIN", "ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs=", "ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs=")]
    [InlineData("SERVER-TLS-PIN", " ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs= , PiPoFgA5WUoziU9lZOGxNIu9egCI1CxKy3PurtWcAJ0=", "ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs=,PiPoFgA5WUoziU9lZOGxNIu9egCI1CxKy3PurtWcAJ0=")]
    [InlineData("SERVER-TLS-PIN", "", "")]
    [InlineData("SERVER-TLS-CA", "relay-ca.pem", "relay-ca.pem")]
    [InlineData("MX-TLS", "none", "NONE")]
    [InlineData("HOP-LIMIT", "1", "1")]
    [InlineData("HOP-LIMIT", "1000", "1000")]
    [InlineData("DELAY-NOTIF-TIME", "0", "0")]
    [InlineData("DELAY-NOTIF-TIME", "31536000", "31536000")]
    [InlineData("METRICS-PORT", "9325", "9325")]
    [InlineData("METRICS-ADDR", "::1", "::1")]
    [InlineData("METRICS-TOKEN", "0123456789abcdef", "0123456789abcdef")]
    [InlineData("DKIM-DOMAIN", "Example.com., sub.example.com", "Example.com,sub.example.com")]
    [InlineData("DKIM-SELECTOR", " 2026a , ed.2026 ", "2026a,ed.2026")]
    [InlineData("DKIM-KEY", "dkim/a.key, /etc/dkim/b.key", "dkim/a.key,/etc/dkim/b.key")]
    [InlineData("SINK", "YES", "YES")]
    [InlineData("sink", "yes", "YES")]
    public void AcceptsValidValues(string name, string value, string normalized)
    {
        var store = new ParameterStore();
        Assert.True(store.TrySet(name, value, "console", out string error), error);
        Assert.Equal(normalized, store.GetValue(name));
        Assert.Equal("console", store.GetSource(name));
    }

    [Theory]
    [InlineData("ACT", "1", "YES or NO")]
    [InlineData("LOG", "", "YES or NO")]
    [InlineData("TCP-LOCPORT", "0", "1..65535")]
    [InlineData("TCP-LOCPORT", "65536", "1..65535")]
    [InlineData("SRCADD", "1.2.3", "an IP address or #")]
    [InlineData("SES-TOT", "0", "1..65535")]
    [InlineData("SES-TOT", "-1", "1..65535")]
    [InlineData("SES-TOT", "ten", "1..65535")]
    [InlineData("SES-RESERVED-IN", "65536", "0..65535")]
    [InlineData("SES-RESERVED-OUT", "x", "0..65535")]
    [InlineData("DT", "0", "1..65535")]
    [InlineData("MAX-IP-SES", "0", "1..65535")]
    [InlineData("MAX-RCPT", "1e3", "1..65535")]
    [InlineData("IPSRC", "localhost", "an IP address or #")]
    [InlineData("IPSRCLIST", "10/8", "the name of a defined IP list, or #")]
    [InlineData("LOCAL-DOMAIN", "exa mple.com", "empty, or comma-separated domain names (IDN in either form)")]
    [InlineData("LOCAL-DOMAIN", "example.com,,b.org", "empty, or comma-separated domain names (IDN in either form)")]
    [InlineData("LOCAL-DOMAIN", "-bad.example", "empty, or comma-separated domain names (IDN in either form)")]
    [InlineData("HELOHOST", "", "1..255 letters, digits, '.', '-' or '_'")]
    [InlineData("HELOHOST", "a b", "1..255 letters, digits, '.', '-' or '_'")]
    [InlineData("WDIR", "", "a folder path")]
    [InlineData("MAX-FAIL-NOTIF", "65536", "0..65535")]
    [InlineData("MSG-MAXSIZE", "0", "1..4194304")]
    [InlineData("STORE-MB", "TRUE", "YES or NO")]
    [InlineData("MB-MAXSIZE", "0", "1..4194304")]
    [InlineData("MB-MAXMAILS", "1000001", "1..1000000")]
    [InlineData("RELAY-NET", "10/33", NetListSyntax.Allowed)]
    [InlineData("RELAY-IPSRCLIST", "1.2.3", NetListSyntax.Allowed)]
    [InlineData("RELAY-AUTH", "YES", "DISABLED or ENABLED")]
    [InlineData("QUEUE-LIFE-TIME", "0", "1..31536000")]
    [InlineData("MAIL-TRY-DELAY", "86401", "1..86400")]
    [InlineData("SERVER", "smtp_relay!", "empty, a host name or an IP address")]
    [InlineData("SERVER-TCP-PORT", "0", "1..65535")]
    [InlineData("SERVER-AUTH", "maybe", "YES or NO")]
    [InlineData("SERVER-USER", "a\tb", "any text without control characters (quote it if it holds spaces)")]
    [InlineData("SERVER-SECURITY", "SSL", "NONE, STARTTLS or TLS")]
    [InlineData("ADMIN-ADDR", "any", "an IP address or #")]
    [InlineData("ADMIN-PORT", "99999", "1..65535")]
    [InlineData("DNS", "127.0.0.1:0", "empty, a.b.c.d[:port] or [IPv6]:port")]
    [InlineData("DNS", "dns.example", "empty, a.b.c.d[:port] or [IPv6]:port")]
    [InlineData("DNS", "[127.0.0.1]:53", "empty, a.b.c.d[:port] or [IPv6]:port")]
    [InlineData("QUEUE-HOLD", "", "YES or NO")]
    [InlineData("TLS-CERT", "a\0b", "empty or a file path")]
    [InlineData("TLS-KEY", "k\u0007ey", "empty or a file path")]
    [InlineData("TLS-REQUIRED", "Y", "YES or NO")]
    [InlineData("AUTH-PLAINTEXT", "N", "YES or NO")]
    [InlineData("TLS-PORT", "0", "1..65535 or #")]
    [InlineData("TLS-PORT", "smtps", "1..65535 or #")]
    [InlineData("TLS-PORT", "", "1..65535 or #")]
    [InlineData("DATA-TIMEOUT", "-1", "0..86400")]
    [InlineData("DATA-TIMEOUT", "10m", "0..86400")]
    [InlineData("MIN-DATA-RATE", "1048577", "0..1048576")]
    [InlineData("DATA-RATE-WINDOW", "0", "1..3600")]
    [InlineData("HOP-LIMIT", "0", "1..1000")]
    [InlineData("IPV6-PREFIX-SES", "47", "48..128")]
    [InlineData("IPV6-PREFIX-SES", "129", "48..128")]
    [InlineData("JUNK-CMD-LIMIT", "0", "1..65535")]
    [InlineData("HOP-LIMIT", "1001", "1..1000")]
    [InlineData("DELAY-NOTIF-TIME", "-1", "0..31536000")]
    [InlineData("DELAY-NOTIF-TIME", "4h", "0..31536000")]
    [InlineData("NODENAME", "node/1", "1..255 letters, digits, '.', '-' or '_'")]
    [InlineData("SERVER-TLS-VERIFY", "MAYBE", "YES, NO or PIN")]
    [InlineData("SERVER-TLS-PIN", "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb", "empty, or up to 16 base64 SHA-256 digests (44 characters) separated by commas")]
    [InlineData("SERVER-TLS-PIN", "ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSL=", "empty, or up to 16 base64 SHA-256 digests (44 characters) separated by commas")]
    [InlineData("SERVER-TLS-PIN", "ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs=,", "empty, or up to 16 base64 SHA-256 digests (44 characters) separated by commas")]
    [InlineData("SERVER-TLS-PIN", "ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uS!s=", "empty, or up to 16 base64 SHA-256 digests (44 characters) separated by commas")]
    [InlineData("SERVER-TLS-CA", "ca\u0001.pem", "empty or a file path")]
    [InlineData("MX-TLS", "YES", "MAY or NONE")]
    [InlineData("METRICS-PORT", "65536", "0..65535")]
    [InlineData("METRICS-ADDR", "#", "an IP address")]
    [InlineData("METRICS-ADDR", "localhost", "an IP address")]
    [InlineData("DKIM-SELECTOR", "a,A", "selectors (letters, digits, '-', '.') separated by commas, at most 8")]
    [InlineData("DKIM-SELECTOR", "a_b", "selectors (letters, digits, '-', '.') separated by commas, at most 8")]
    [InlineData("DKIM-SELECTOR", "", "selectors (letters, digits, '-', '.') separated by commas, at most 8")]
    [InlineData("DKIM-SELECTOR", "a,b,c,d,e,f,g,h,i", "selectors (letters, digits, '-', '.') separated by commas, at most 8")]
    [InlineData("SINK", "ON", "YES or NO")]
    [InlineData("LOCAL-RCPT", "SOME", "KNOWN or ANY")]
    [InlineData("RECIPIENT-DELIMITER", "#", "empty, or up to 4 of + - _ = .")]
    [InlineData("RECIPIENT-DELIMITER", "++", "empty, or up to 4 of + - _ = .")]
    [InlineData("RECIPIENT-DELIMITER", "+-_=.", "empty, or up to 4 of + - _ = .")]
    [InlineData("LOCAL-DOMAIN", "bü cher.test", "empty, or comma-separated domain names (IDN in either form)")]
    public void RejectsInvalidValuesWithOneLine(string name, string value, string allowed)
    {
        var store = new ParameterStore();
        string before = store.GetValue(name);
        Assert.False(store.TrySet(name, value, "argument 4", out string error));
        Assert.Equal($"argument 4: {name}:{value} is invalid: allowed {allowed}", error);
        Assert.Equal(before, store.GetValue(name));
        Assert.Equal("default", store.GetSource(name));
    }

    [Fact]
    public void InvalidPasswordIsNotEchoed()
    {
        var store = new ParameterStore();
        Assert.False(store.TrySet("SERVER-PWD", "se\u0001cret", "argument 1", out string error));
        Assert.Equal("argument 1: SERVER-PWD:******** is invalid: allowed any text without control characters (quote it if it holds spaces)", error);
    }

    [Fact]
    public void UnknownParameter()
    {
        var store = new ParameterStore();
        Assert.False(store.TrySet("FOO", "1", "argument 2", out string error));
        Assert.Equal("argument 2: FOO:1 is not a parameter (see --help)", error);
    }

    [Fact]
    public void UnknownListName()
    {
        var store = new ParameterStore();
        Assert.False(store.TrySet("RELAY-NET", "10/8,Office", "x.conf:3", out string error));
        Assert.Equal($"x.conf:3: RELAY-NET:10/8,Office is invalid: Office is not a defined IP list; allowed {NetListSyntax.Allowed}", error);
        Assert.False(store.TrySet("IPSRCLIST", "Office", "x.conf:4", out error));
        Assert.Equal("x.conf:4: IPSRCLIST:Office is invalid: Office is not a defined IP list; allowed the name of a defined IP list, or #", error);
    }

    [Fact]
    public void FormatListsEveryParameterAndMasksPasswords()
    {
        var store = new ParameterStore();
        Assert.True(store.TrySet("SERVER-PWD", "top secret", "console", out _));
        Assert.True(store.TrySet("HELOHOST", "mx.example.com", "console", out _));
        IReadOnlyList<string> lines = store.Format();
        Assert.Equal(ParameterTable.Count, lines.Count);
        Assert.Equal(ParameterTable.All.Select(d => d.Name), lines.Select(l => l[..l.IndexOf(':')]));
        Assert.Contains("SERVER-PWD:********", lines);
        Assert.Contains("HELOHOST:mx.example.com", lines);
        Assert.Contains("RELAY-NET:#", lines);
        Assert.Contains("SERVER-PWD:\"top secret\"", store.Format(revealSecrets: true));
    }

    [Fact]
    public void PasswordWithQuotesAndSpacesRoundTrips()
    {
        var store = new ParameterStore();
        Assert.True(store.TrySet("SERVER-PWD", "a \"b\" \\c #d", "console", out _));
        string line = store.Format(revealSecrets: true).Single(l => l.StartsWith("SERVER-PWD:", StringComparison.Ordinal));
        var other = new ParameterStore();
        ConfigFileReader.ApplyLines(other, [line], "t.conf");
        Assert.Equal("a \"b\" \\c #d", other.GetValue("SERVER-PWD"));
    }

    [Theory]
    [InlineData(10, 2, 2, true)]
    [InlineData(10, 5, 5, true)]
    [InlineData(4, 0, 2, true)]
    [InlineData(1, 1, 0, true)]
    [InlineData(10, 6, 5, false)]
    [InlineData(3, 2, 2, false)]
    [InlineData(2, 0, 2, false)]
    [InlineData(1, 0, 1, false)]
    public void ReservedChannelsCrossCheck(int total, int reservedIn, int reservedOut, bool valid)
    {
        var store = new ParameterStore();
        Assert.True(store.TrySet("SES-RESERVED-IN", reservedIn.ToString(), "a.conf:1", out _));
        Assert.True(store.TrySet("SES-RESERVED-OUT", reservedOut.ToString(), "a.conf:2", out _));
        Assert.True(store.TrySet("SES-TOT", total.ToString(), "argument 3", out _));
        Assert.Equal(valid, store.TryValidate(out string error));
        if (valid)
        {
            Assert.Equal(total - reservedIn - reservedOut, store.ToSettings().SesShared);
        }
        else
        {
            Assert.StartsWith($"argument 3: SES-RESERVED-IN:{reservedIn} SES-RESERVED-OUT:{reservedOut} SES-TOT:{total} is invalid: ", error);
            ConfigurationException e = Assert.Throws<ConfigurationException>(() => store.ToSettings());
            Assert.Equal(error, e.Message);
        }
    }

    [Fact]
    public void CrossCheckErrorExample()
    {
        var store = new ParameterStore();
        Assert.True(store.TrySet("SES-TOT", "3", "abilisfast.conf:7", out _));
        Assert.False(store.TryValidate(out string error));
        Assert.Equal(
            "abilisfast.conf:7: SES-RESERVED-IN:2 SES-RESERVED-OUT:2 SES-TOT:3 is invalid: allowed SES-RESERVED-IN + SES-RESERVED-OUT <= SES-TOT",
            error);
    }

    [Fact]
    public void LiveAndRestartFlags()
    {
        Assert.True(ParameterTable.Get("SES-TOT").RequiresRestart);
        Assert.True(ParameterTable.Get("TCP-LOCPORT").RequiresRestart);
        Assert.True(ParameterTable.Get("WDIR").RequiresRestart);
        Assert.True(ParameterTable.Get("DT").Live);
        Assert.True(ParameterTable.Get("sink").Live);
    }
}
