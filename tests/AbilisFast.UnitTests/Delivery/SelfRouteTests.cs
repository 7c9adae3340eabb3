namespace AbilisFast.Server.Tests.Delivery;

/// <summary>Which next hops are this server (its listening address and port), and what is left of a route without them.</summary>
public sealed class SelfRouteTests
{
    private static readonly IReadOnlySet<IPAddress> Interfaces = new HashSet<IPAddress>
    {
        IPAddress.Parse("192.0.2.10"), IPAddress.Parse("2001:db8::10"), IPAddress.Parse("fe80::10"),
    };

    private static bool IsSelf(string target, int port, params string[] listeners) =>
        SelfRoute.IsSelf(new IPEndPoint(IPAddress.Parse(target), port), [.. listeners.Select(IPEndPoint.Parse)], () => Interfaces);

    [Theory]
    [InlineData("127.0.0.1", "[::]:25")]
    [InlineData("127.8.9.10", "[::]:25")]
    [InlineData("::1", "[::]:25")]
    [InlineData("::ffff:127.0.0.1", "[::]:25")]
    [InlineData("0.0.0.0", "[::]:25")]
    [InlineData("192.0.2.10", "[::]:25")]
    [InlineData("::ffff:192.0.2.10", "[::]:25")]
    [InlineData("2001:db8::10", "[::]:25")]
    [InlineData("fe80::10%2", "[::]:25")]
    [InlineData("192.0.2.10", "0.0.0.0:25")]
    [InlineData("127.0.0.1", "0.0.0.0:25")]
    [InlineData("127.0.0.1", "127.0.0.1:25")]
    [InlineData("192.0.2.10", "127.0.0.1:2525", "192.0.2.10:25")]
    public void TheListeningAddressAndPortAreThisServer(string target, params string[] listeners) =>
        Assert.True(IsSelf(target, 25, listeners));

    [Theory]
    [InlineData("127.0.0.1", 26, "[::]:25")] // another port: another server on the same host
    [InlineData("192.0.2.11", 25, "[::]:25")] // not an interface address
    [InlineData("2001:db8::10", 25, "0.0.0.0:25")] // 0.0.0.0 takes IPv4 only
    [InlineData("127.0.0.2", 25, "127.0.0.1:25")] // bound to one address only
    [InlineData("192.0.2.10", 25, "127.0.0.1:25")]
    [InlineData("127.0.0.1", 25)] // not listening at all
    public void OtherAddressesOrPortsAreNot(string target, int port, params string[] listeners) =>
        Assert.False(IsSelf(target, port, listeners));

    [Fact]
    public void ARealWildcardListenerKnowsTheMachinesOwnAddresses()
    {
        // No fake interface list: the machine's own (loopback at least) are found.
        Assert.True(SelfRoute.IsSelf(new IPEndPoint(IPAddress.Loopback, 2525), [new IPEndPoint(IPAddress.IPv6Any, 2525)]));
        Assert.False(SelfRoute.IsSelf(new IPEndPoint(IPAddress.Parse("192.0.2.99"), 2525), [new IPEndPoint(IPAddress.IPv6Any, 2525)]));
    }

    private static DeliveryTarget Target(string host, int preference, params string[] addresses) =>
        new(host, preference, [.. addresses.Select(IPAddress.Parse)], 25);

    private static bool Self(IPEndPoint endpoint) => endpoint.Address.Equals(IPAddress.Parse("192.0.2.10"));

    [Fact]
    public void MxHostsOfTheSameOrAWorsePreferenceThanThisServerAreDropped()
    {
        // RFC 5321 5.1: this server is mx2 (20); mx1 (10) stays, mx2, mx2b (20) and mx3 (30) go.
        DeliveryTarget[] targets =
        [
            Target("mx1.test", 10, "192.0.2.1"),
            Target("mx2b.test", 20, "192.0.2.2"),
            Target("mx2.test", 20, "192.0.2.3", "192.0.2.10"),
            Target("mx3.test", 30, "192.0.2.4"),
        ];
        IReadOnlyList<DeliveryTarget> kept = SelfRoute.WithoutSelf(targets, relayServer: false, Self, out string? self);
        Assert.Equal(["mx1.test"], kept.Select(t => t.Host));
        Assert.Equal("mx2.test [192.0.2.10]:25", self);
    }

    [Fact]
    public void WhenThisServerIsTheBestMxNothingIsLeft()
    {
        DeliveryTarget[] targets = [Target("me.test", 10, "192.0.2.10"), Target("backup.test", 20, "192.0.2.2")];
        Assert.Empty(SelfRoute.WithoutSelf(targets, relayServer: false, Self, out string? self));
        Assert.Equal("me.test [192.0.2.10]:25", self);
    }

    [Fact]
    public void ARelayServerKeepsItsOtherAddresses()
    {
        DeliveryTarget[] targets = [Target("relay.test", 0, "192.0.2.10", "192.0.2.5")];
        DeliveryTarget kept = Assert.Single(SelfRoute.WithoutSelf(targets, relayServer: true, Self, out string? self));
        Assert.Equal([IPAddress.Parse("192.0.2.5")], kept.Addresses);
        Assert.Equal("relay.test [192.0.2.10]:25", self);

        Assert.Empty(SelfRoute.WithoutSelf([Target("relay.test", 0, "192.0.2.10")], relayServer: true, Self, out _));
    }

    [Fact]
    public void ARouteWithoutThisServerIsLeftAlone()
    {
        DeliveryTarget[] targets = [Target("mx1.test", 10, "192.0.2.1"), Target("mx2.test", 20, "192.0.2.2")];
        Assert.Same(targets, SelfRoute.WithoutSelf(targets, relayServer: false, Self, out string? self));
        Assert.Null(self);
    }
}
