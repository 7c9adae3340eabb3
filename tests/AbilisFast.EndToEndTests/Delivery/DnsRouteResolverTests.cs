namespace AbilisFast.Server.Tests.Delivery;

/// <summary>The records every test here reads, served by one real dnsmasq on loopback.</summary>
public sealed class DnsmasqFixture : IAsyncLifetime
{
    private Dnsmasq? _dnsmasq;

    internal IPEndPoint EndPoint => _dnsmasq?.EndPoint ?? throw new InvalidOperationException("dnsmasq not started");

    public async Task InitializeAsync()
    {
        _dnsmasq = await Dnsmasq.StartAsync(
            [
                // Two MX hosts, listed worst first.
                Dnsmasq.MxHost("b.test", "mx2.b.test", 20),
                Dnsmasq.MxHost("b.test", "mx1.b.test", 10),
                Dnsmasq.HostRecord("mx1.b.test", "127.0.0.1"),
                Dnsmasq.HostRecord("mx2.b.test", "127.0.0.2"),
                // Equal preferences, and a worse one after them.
                Dnsmasq.MxHost("eq.test", "mxa.eq.test", 10),
                Dnsmasq.MxHost("eq.test", "mxb.eq.test", 10),
                Dnsmasq.MxHost("eq.test", "backup.eq.test", 30),
                Dnsmasq.HostRecord("mxa.eq.test", "127.0.0.11"),
                Dnsmasq.HostRecord("mxb.eq.test", "127.0.0.12"),
                Dnsmasq.HostRecord("backup.eq.test", "127.0.0.13"),
                // No MX: the domain's own addresses.
                Dnsmasq.HostRecord("impl.test", "127.0.0.5"),
                Dnsmasq.HostRecord("impl6.test", "127.0.0.6", "::1"),
                // RFC 7505 null MX.
                Dnsmasq.MxHost("nullmx.test", ".", 0),
                // First MX host has no address at all.
                Dnsmasq.MxHost("skip.test", "noaddr.skip.test", 10),
                Dnsmasq.MxHost("skip.test", "mx.skip.test", 20),
                Dnsmasq.HostRecord("mx.skip.test", "127.0.0.4"),
                // No MX host has an address.
                Dnsmasq.MxHost("dead.test", "gone.dead.test", 10),
                // MX for a name that has no address: the domain exists, NOERROR/NODATA on A.
                Dnsmasq.MxHost("noaddr.test", "mx.noaddr.test", 10),
                Dnsmasq.HostRecord("mx.noaddr.test", "127.0.0.7"),
                // IDN: bücher.test as its A-label.
                Dnsmasq.MxHost("xn--bcher-kva.test", "mx.xn--bcher-kva.test", 10),
                Dnsmasq.HostRecord("mx.xn--bcher-kva.test", "127.0.0.8"),
                // A relay host.
                Dnsmasq.HostRecord("relay.test", "127.0.0.9", "::1"),
            ],
            "test");
    }

    public Task DisposeAsync()
    {
        _dnsmasq?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// <see cref="DnsRouteResolver"/> against a real dnsmasq (records) and an in-process responder
/// (SERVFAIL, REFUSED, silence). Never the machine's resolver.
/// </summary>
public sealed class DnsRouteResolverTests(DnsmasqFixture dns) : IClassFixture<DnsmasqFixture>
{
    private const int Port = 2525;

    private DnsRouteResolver Resolver() => new(dns.EndPoint, TimeSpan.FromSeconds(2), retries: 1);

    /// <summary>An MX lookup of <paramref name="domain"/> against the in-process responder (2-second timeout, no retry).</summary>
    private static Task<ResolveResult> ResolveMxAsync(TestDnsServer server, string domain) =>
        new DnsRouteResolver(server.EndPoint, TimeSpan.FromSeconds(2), retries: 0).ResolveMxAsync(domain, Port, CancellationToken.None);

    private static string[] Addresses(DeliveryTarget target) => [.. target.Addresses.Select(a => a.ToString())];

    [Fact]
    public async Task MxHostsComeByPreference()
    {
        ResolveResult result = await Resolver().ResolveMxAsync("b.test", Port, CancellationToken.None);

        Assert.Equal(ResolveStatus.Ok, result.Status);
        Assert.Collection(
            result.Targets,
            t =>
            {
                Assert.Equal(("mx1.b.test", 10, Port), (t.Host, t.Preference, t.Port));
                Assert.Equal(["127.0.0.1"], Addresses(t));
            },
            t =>
            {
                Assert.Equal(("mx2.b.test", 20, Port), (t.Host, t.Preference, t.Port));
                Assert.Equal(["127.0.0.2"], Addresses(t));
            });
        Assert.Equal("MX b.test: mx1.b.test (10) 127.0.0.1, mx2.b.test (20) 127.0.0.2", result.Detail);
    }

    [Fact]
    public async Task EqualPreferencesAreAllThereInRandomOrder()
    {
        DnsRouteResolver resolver = Resolver();
        HashSet<string> firsts = [];
        for (int i = 0; i < 64; i++)
        {
            ResolveResult result = await resolver.ResolveMxAsync("eq.test", Port, CancellationToken.None);
            Assert.Equal(ResolveStatus.Ok, result.Status);
            Assert.Equal(3, result.Targets.Count);
            Assert.Equal(["mxa.eq.test", "mxb.eq.test"], result.Targets.Take(2).Select(t => t.Host).Order());
            Assert.All(result.Targets.Take(2), t => Assert.Equal(10, t.Preference));
            Assert.Equal(("backup.eq.test", 30), (result.Targets[2].Host, result.Targets[2].Preference));
            firsts.Add(result.Targets[0].Host);
        }

        // 64 draws: both orders show up unless the shuffle is broken (chance 2^-63).
        Assert.Equal(2, firsts.Count);
    }

    [Fact]
    public async Task NoMxMeansTheDomainItselfAsImplicitMx()
    {
        ResolveResult result = await Resolver().ResolveMxAsync("impl.test", Port, CancellationToken.None);

        Assert.Equal(ResolveStatus.Ok, result.Status);
        DeliveryTarget target = Assert.Single(result.Targets);
        Assert.Equal(("impl.test", 0, Port), (target.Host, target.Preference, target.Port));
        Assert.Equal(["127.0.0.5"], Addresses(target));
        Assert.Contains("127.0.0.5", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImplicitMxHasIpv4ThenIpv6()
    {
        ResolveResult result = await Resolver().ResolveMxAsync("impl6.test", Port, CancellationToken.None);

        Assert.Equal(ResolveStatus.Ok, result.Status);
        Assert.Equal(["127.0.0.6", "::1"], Addresses(Assert.Single(result.Targets)));
    }

    [Fact]
    public async Task NullMxIsPermanent()
    {
        ResolveResult result = await Resolver().ResolveMxAsync("nullmx.test", Port, CancellationToken.None);

        Assert.Equal(ResolveStatus.PermanentFailure, result.Status);
        Assert.Empty(result.Targets);
        Assert.StartsWith("5.1.10 nullmx.test", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NxDomainIsPermanent()
    {
        ResolveResult result = await Resolver().ResolveMxAsync("nosuch.test", Port, CancellationToken.None);

        Assert.Equal(ResolveStatus.PermanentFailure, result.Status);
        Assert.Empty(result.Targets);
        Assert.Equal("5.1.2 nosuch.test: domain not found", result.Detail);
    }

    [Fact]
    public async Task AnMxHostWithoutAddressIsSkipped()
    {
        ResolveResult result = await Resolver().ResolveMxAsync("skip.test", Port, CancellationToken.None);

        Assert.Equal(ResolveStatus.Ok, result.Status);
        DeliveryTarget target = Assert.Single(result.Targets);
        Assert.Equal(("mx.skip.test", 20), (target.Host, target.Preference));
        Assert.Equal(["127.0.0.4"], Addresses(target));
    }

    [Fact]
    public async Task NoMxHostWithAnAddressIsPermanent()
    {
        ResolveResult result = await Resolver().ResolveMxAsync("dead.test", Port, CancellationToken.None);

        Assert.Equal(ResolveStatus.PermanentFailure, result.Status);
        Assert.StartsWith("5.4.4 ", result.Detail, StringComparison.Ordinal);
        Assert.Contains("gone.dead.test", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnIdnDomainIsLookedUpByItsALabel()
    {
        // The executable runs with InvariantGlobalization; so does this test project.
        Assert.True(AppContext.TryGetSwitch("System.Globalization.Invariant", out bool invariant) && invariant);

        ResolveResult result = await Resolver().ResolveMxAsync("bücher.test", Port, CancellationToken.None);

        Assert.Equal(ResolveStatus.Ok, result.Status);
        DeliveryTarget target = Assert.Single(result.Targets);
        Assert.Equal("mx.xn--bcher-kva.test", target.Host);
        Assert.Equal(["127.0.0.8"], Addresses(target));
    }

    [Theory]
    [InlineData("bücher.test", "xn--bcher-kva.test")]
    [InlineData("例え.テスト", "xn--r8jz45g.xn--zckzah")]
    [InlineData("Example.TEST.", "Example.TEST")]
    public void IdnNamesBecomeALabels(string name, string expected)
    {
        Assert.True(DnsRouteResolver.TryToAscii(name, out string ascii));
        Assert.Equal(expected, ascii);
    }

    [Fact]
    public async Task RelayHostNameGivesItsAddresses()
    {
        ResolveResult result = await Resolver().ResolveHostAsync("relay.test", 587, CancellationToken.None);

        Assert.Equal(ResolveStatus.Ok, result.Status);
        DeliveryTarget target = Assert.Single(result.Targets);
        Assert.Equal(("relay.test", 0, 587), (target.Host, target.Preference, target.Port));
        Assert.Equal(["127.0.0.9", "::1"], Addresses(target));
        Assert.Equal("relay.test: 127.0.0.9 ::1", result.Detail);
    }

    [Fact]
    public async Task UnknownRelayHostIsPermanent()
    {
        ResolveResult result = await Resolver().ResolveHostAsync("norelay.test", 25, CancellationToken.None);

        Assert.Equal(ResolveStatus.PermanentFailure, result.Status);
        Assert.StartsWith("5.1.2 norelay.test", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RelayHostWithoutAddressIsPermanent()
    {
        // noaddr.test exists (it has an MX) but has no A/AAAA.
        ResolveResult result = await Resolver().ResolveHostAsync("noaddr.test", 25, CancellationToken.None);

        Assert.Equal(ResolveStatus.PermanentFailure, result.Status);
        Assert.StartsWith("5.4.4 noaddr.test", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.3", "127.0.0.3")]
    [InlineData("::1", "::1")]
    [InlineData("[127.0.0.3]", "127.0.0.3")]
    public async Task RelayHostIpIsUsedWithoutDns(string host, string address)
    {
        using var silent = new TestDnsServer((_, _) => null);
        var resolver = new DnsRouteResolver(silent.EndPoint, TimeSpan.FromMilliseconds(300), retries: 0);

        ResolveResult result = await resolver.ResolveHostAsync(host, 25, CancellationToken.None);

        Assert.Equal(ResolveStatus.Ok, result.Status);
        DeliveryTarget target = Assert.Single(result.Targets);
        Assert.Equal([address], Addresses(target));
        Assert.Equal(25, target.Port);
        Assert.Equal(0, silent.Queries);
    }

    [Theory]
    [InlineData("[192.0.2.1]", "192.0.2.1")]
    [InlineData("[IPv6:::1]", "::1")]
    [InlineData("[IPv6:2001:db8::25]", "2001:db8::25")]
    public async Task AddressLiteralsAreUsedWithoutDns(string literal, string address)
    {
        using var silent = new TestDnsServer((_, _) => null);
        var resolver = new DnsRouteResolver(silent.EndPoint, TimeSpan.FromMilliseconds(300), retries: 0);

        ResolveResult result = await resolver.ResolveMxAsync(literal, Port, CancellationToken.None);

        Assert.Equal(ResolveStatus.Ok, result.Status);
        DeliveryTarget target = Assert.Single(result.Targets);
        Assert.Equal((literal, 0, Port), (target.Host, target.Preference, target.Port));
        Assert.Equal([address], Addresses(target));
        Assert.Equal(0, silent.Queries);
    }

    [Theory]
    [InlineData("[300.1.1.1]")]
    [InlineData("[::1]")]
    [InlineData("[IPv6:192.0.2.1]")]
    [InlineData("[192.0.2.1")]
    public async Task BadAddressLiteralsArePermanent(string literal)
    {
        using var silent = new TestDnsServer((_, _) => null);
        var resolver = new DnsRouteResolver(silent.EndPoint, TimeSpan.FromMilliseconds(300), retries: 0);

        ResolveResult result = await resolver.ResolveMxAsync(literal, Port, CancellationToken.None);

        Assert.Equal(ResolveStatus.PermanentFailure, result.Status);
        Assert.StartsWith("5.1.2 ", result.Detail, StringComparison.Ordinal);
        Assert.Equal(0, silent.Queries);
    }

    [Fact]
    public async Task ServFailIsTemporary()
    {
        using var server = new TestDnsServer((_, _) => TestDnsReply.ServFail);
        ResolveResult result = await ResolveMxAsync(server, "broken.test");

        Assert.Equal(ResolveStatus.TemporaryFailure, result.Status);
        Assert.Empty(result.Targets);
        Assert.Equal("4.4.3 DNS server failure (SERVFAIL) for broken.test", result.Detail);
    }

    [Fact]
    public async Task RefusedIsTemporary()
    {
        using var server = new TestDnsServer((_, _) => TestDnsReply.Refused);
        ResolveResult result = await ResolveMxAsync(server, "closed.test");

        Assert.Equal(ResolveStatus.TemporaryFailure, result.Status);
        Assert.StartsWith("4.4.3 ", result.Detail, StringComparison.Ordinal);
        Assert.Contains("REFUSED", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TimeoutIsTemporary()
    {
        using var silent = new TestDnsServer((_, _) => null);
        var resolver = new DnsRouteResolver(silent.EndPoint, TimeSpan.FromMilliseconds(300), retries: 0);

        ResolveResult mx = await resolver.ResolveMxAsync("slow.test", Port, CancellationToken.None);
        ResolveResult host = await resolver.ResolveHostAsync("slow.test", Port, CancellationToken.None);

        Assert.Equal(ResolveStatus.TemporaryFailure, mx.Status);
        Assert.Equal("4.4.3 DNS timeout for slow.test", mx.Detail);
        Assert.Equal(ResolveStatus.TemporaryFailure, host.Status);
        Assert.StartsWith("4.4.3 DNS timeout for slow.test", host.Detail, StringComparison.Ordinal);
        Assert.True(silent.Queries >= 1);
    }

    [Fact]
    public async Task MxHostsThatFailTemporarilyMakeTheResultTemporary()
    {
        using var server = new TestDnsServer((name, type) => (name, type) switch
        {
            ("t.test", TestDnsServer.TypeMx) => TestDnsReply.With(TestDnsRecord.Mx("t.test", 10, "mx1.t.test"), TestDnsRecord.Mx("t.test", 20, "mx2.t.test")),
            ("mx1.t.test", _) => TestDnsReply.ServFail,
            _ => TestDnsReply.NxDomain,
        });
        ResolveResult result = await ResolveMxAsync(server, "t.test");

        Assert.Equal(ResolveStatus.TemporaryFailure, result.Status);
        Assert.StartsWith("4.4.3 ", result.Detail, StringComparison.Ordinal);
        Assert.Contains("SERVFAIL", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MxFromTheInProcessResponderWithAdditionalFreeAnswers()
    {
        // Same host twice (deduplicated), addresses of both families asked for.
        using var server = new TestDnsServer((name, type) => (name, type) switch
        {
            ("d.test", TestDnsServer.TypeMx) => TestDnsReply.With(
                TestDnsRecord.Mx("d.test", 20, "mx.d.test"),
                TestDnsRecord.Mx("d.test", 10, "MX.d.test")),
            ("mx.d.test", TestDnsServer.TypeA) => TestDnsReply.With(TestDnsRecord.A("mx.d.test", "127.0.0.21")),
            ("mx.d.test", TestDnsServer.TypeAaaa) => TestDnsReply.With(TestDnsRecord.Aaaa("mx.d.test", "::1")),
            _ => TestDnsReply.NoData,
        });
        ResolveResult result = await ResolveMxAsync(server, "d.test");

        Assert.Equal(ResolveStatus.Ok, result.Status);
        DeliveryTarget target = Assert.Single(result.Targets);
        Assert.Equal(10, target.Preference);
        Assert.Equal(["127.0.0.21", "::1"], Addresses(target));
    }

    [Fact]
    public async Task CancellationIsHonoured()
    {
        using var silent = new TestDnsServer((_, _) => null);
        var resolver = new DnsRouteResolver(silent.EndPoint, TimeSpan.FromSeconds(30), retries: 0);
        using var cts = new CancellationTokenSource();
        Task<ResolveResult> lookup = resolver.ResolveMxAsync("slow.test", Port, cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => lookup);
    }
}
