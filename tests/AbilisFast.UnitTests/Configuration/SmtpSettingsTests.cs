namespace AbilisFast.Server.Tests.Configuration;

public sealed class SmtpSettingsTests
{
    [Theory]
    [InlineData("example.com")]
    [InlineData("EXAMPLE.COM")]
    [InlineData("Example.Com.")]
    [InlineData("mail.example.org")]
    public void ALocalDomainInAnySpellingIsLocal(string domain) => Assert.True(LocalDomains().IsLocalDomain(Encoding.UTF8.GetBytes(domain)));

    [Theory]
    [InlineData("example.com..")]
    [InlineData("evil-example.com")]
    [InlineData("evilexample.com")]
    [InlineData("sub.example.com")]
    [InlineData("example.com.evil.net")]
    [InlineData("example.co")]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("[192.0.2.1]")]
    public void LookalikesSubdomainsAndLiteralsAreNotLocal(string domain) => Assert.False(LocalDomains().IsLocalDomain(Encoding.UTF8.GetBytes(domain)));

    /// <summary>The settings for LOCAL-DOMAIN "example.com, Mail.Example.Org." (the trailing dot dropped, the spelling kept).</summary>
    private static SmtpSettings LocalDomains()
    {
        var store = new ParameterStore();
        Assert.True(store.TrySet("LOCAL-DOMAIN", "example.com, Mail.Example.Org.", "t", out string error), error);
        SmtpSettings s = store.ToSettings();
        Assert.Equal(["example.com", "Mail.Example.Org"], s.LocalDomains);
        return s;
    }

    [Fact]
    public void DataDeadlinesParse()
    {
        SmtpSettings defaults = TestSettingsFor();
        Assert.Equal(TimeSpan.FromSeconds(600), defaults.DataTimeout);
        Assert.Equal(256, defaults.MinDataRate);
        Assert.Equal(TimeSpan.FromSeconds(30), defaults.DataRateWindow);

        SmtpSettings set = TestSettingsFor("DATA-TIMEOUT:0", "MIN-DATA-RATE:1024", "DATA-RATE-WINDOW:5");
        Assert.Equal(TimeSpan.Zero, set.DataTimeout);
        Assert.Equal(1024, set.MinDataRate);
        Assert.Equal(TimeSpan.FromSeconds(5), set.DataRateWindow);

        static SmtpSettings TestSettingsFor(params string[] values)
        {
            var store = new ParameterStore();
            foreach (string value in values)
            {
                int colon = value.IndexOf(':', StringComparison.Ordinal);
                Assert.True(store.TrySet(value[..colon], value[(colon + 1)..], "t", out string error), error);
            }

            return store.ToSettings();
        }
    }

    [Fact]
    public void NonAsciiDomainDoesNotMatch()
    {
        SmtpSettings s = SmtpSettings.Default with { LocalDomains = ["example.com"] };
        Assert.False(s.IsLocalDomain("exämple.com"u8));
        Assert.False(s.IsLocalDomain("EXAMPLE.COM\0"u8));
    }

    [Fact]
    public void WithKeepsLocalDomainsConsistent()
    {
        SmtpSettings a = SmtpSettings.Default with { LocalDomains = ["a.example"] };
        SmtpSettings b = a with { LocalDomains = ["b.example"] };
        Assert.True(a.IsLocalDomain("a.example"u8));
        Assert.False(a.IsLocalDomain("b.example"u8));
        Assert.True(b.IsLocalDomain("B.example"u8));
        Assert.False(b.IsLocalDomain("a.example"u8));
        Assert.True((b with { Sink = true }).IsLocalDomain("b.example"u8));
    }

    [Fact]
    public void NoLocalDomainsMatchesNothing()
    {
        Assert.False(SmtpSettings.Default.IsLocalDomain("noname"u8));
        Assert.False(SmtpSettings.Default.IsLocalDomain(""u8));
    }

    [Fact]
    public void IpSrcAllowedIsUnionOfAddressAndList()
    {
        var store = new ParameterStore();
        Assert.True(store.TrySet("IPSRC", "203.0.113.5", "t", out _));
        SmtpSettings s = store.ToSettings();
        Assert.True(s.IpSrcAllowed.Contains(IPAddress.Parse("203.0.113.5")));
        Assert.True(s.IpSrcAllowed.Contains(IPAddress.Parse("::ffff:203.0.113.5")));
        Assert.True(s.IpSrcAllowed.Contains(IPAddress.Parse("10.0.0.1")));
        Assert.False(s.IpSrcAllowed.Contains(IPAddress.Parse("203.0.113.6")));

        Assert.True(store.TrySet("IPSRCLIST", "#", "t", out _));
        SmtpSettings only = store.ToSettings();
        Assert.Null(only.IpSrcList);
        Assert.False(only.IpSrcAllowed.Contains(IPAddress.Parse("10.0.0.1")));
        Assert.True(only.IpSrcAllowed.Contains(IPAddress.Parse("203.0.113.5")));
    }

    [Fact]
    public void ToStringDoesNotShowPassword()
    {
        SmtpSettings s = SmtpSettings.Default with { RelayServerPassword = "hunter2" };
        Assert.DoesNotContain("hunter2", s.ToString());
    }
}
