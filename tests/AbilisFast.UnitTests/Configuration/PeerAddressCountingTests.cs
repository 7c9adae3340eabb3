namespace AbilisFast.Server.Tests.Configuration;

/// <summary>The key by which MAX-IP-SES and IPBAN count a client (IPV6-PREFIX-SES for IPv6).</summary>
public sealed class PeerAddressCountingTests
{
    /// <summary>MAX-IP-SES counts IPv6 clients per IPV6-PREFIX-SES network: two addresses of one /64 share its places.</summary>
    [Fact]
    public void Ipv6ClientsAreCountedByTheirPrefix()
    {
        IPAddress a = IPAddress.Parse("2001:db8:1:2::10");
        IPAddress b = IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff");
        IPAddress other = IPAddress.Parse("2001:db8:1:3::10");
        Assert.Equal(IPAddress.Parse("2001:db8:1:2::"), PeerAddress.CountingKey(a, 64));
        Assert.Equal(PeerAddress.CountingKey(a, 64), PeerAddress.CountingKey(b, 64));
        Assert.NotEqual(PeerAddress.CountingKey(a, 64), PeerAddress.CountingKey(other, 64));
        Assert.Equal(PeerAddress.CountingKey(a, 48), PeerAddress.CountingKey(other, 48));
        Assert.Equal(IPAddress.Parse("2001:db8:1:2::"), PeerAddress.CountingKey(IPAddress.Parse("2001:db8:1:2:1ff::"), 71));
        Assert.Equal(IPAddress.Parse("2001:db8:1:2:100::"), PeerAddress.CountingKey(IPAddress.Parse("2001:db8:1:2:1ff::"), 72));
        Assert.Equal(a, PeerAddress.CountingKey(a, 128));
        Assert.Equal(IPAddress.Parse("192.0.2.7"), PeerAddress.CountingKey(IPAddress.Parse("192.0.2.7"), 64));
    }
}
