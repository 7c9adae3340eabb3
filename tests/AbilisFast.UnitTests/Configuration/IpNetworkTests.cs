namespace AbilisFast.Server.Tests.Configuration;

public sealed class IpNetworkTests
{
    [Theory]
    [InlineData("127/8", "127.0.0.0/8")]
    [InlineData("10/8", "10.0.0.0/8")]
    [InlineData("172.16/12", "172.16.0.0/12")]
    [InlineData("192.168/16", "192.168.0.0/16")]
    [InlineData("192.168.1.0/24", "192.168.1.0/24")]
    [InlineData("192.168.1.77/24", "192.168.1.0/24")]
    [InlineData("1.2.3.4", "1.2.3.4/32")]
    [InlineData("0/0", "0.0.0.0/0")]
    [InlineData("::1/128", "::1/128")]
    [InlineData("::1", "::1/128")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    [InlineData("2001:db8:1:2::5/64", "2001:db8:1:2::/64")]
    [InlineData(" 10.1.0.0/16 ", "10.1.0.0/16")]
    public void ParsesAndFormats(string text, string expected)
    {
        Assert.True(IpNetwork.TryParse(text, out IpNetwork network));
        Assert.Equal(expected, network.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("127")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5/32")]
    [InlineData("256/8")]
    [InlineData("10/33")]
    [InlineData("10/")]
    [InlineData("/8")]
    [InlineData("10/-1")]
    [InlineData("0x7f/8")]
    [InlineData("1.2.3.4/8/8")]
    [InlineData("::1/129")]
    [InlineData("fe80::1%eth0/64")]
    [InlineData("example.com")]
    [InlineData("1..2.3")]
    public void RejectsInvalid(string text)
    {
        Assert.False(IpNetwork.TryParse(text, out _));
    }

    [Theory]
    [InlineData("127/8", "127.0.0.1", true)]
    [InlineData("127/8", "127.255.255.255", true)]
    [InlineData("127/8", "128.0.0.1", false)]
    [InlineData("172.16/12", "172.31.255.1", true)]
    [InlineData("172.16/12", "172.32.0.1", false)]
    [InlineData("172.16/12", "172.15.255.255", false)]
    [InlineData("1.2.3.4", "1.2.3.4", true)]
    [InlineData("1.2.3.4", "1.2.3.5", false)]
    [InlineData("0/0", "203.0.113.9", true)]
    [InlineData("10/8", "::ffff:10.9.8.7", true)]
    [InlineData("10/8", "::ffff:11.9.8.7", false)]
    [InlineData("10/8", "::a09:807", false)]
    [InlineData("::1/128", "::1", true)]
    [InlineData("::1/128", "::2", false)]
    [InlineData("::1/128", "127.0.0.1", false)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::/32", "2001:db9::1", false)]
    [InlineData("2001:db8:0:1::/63", "2001:db8:0:1:8000::1", true)]
    [InlineData("2001:db8:0:2::/63", "2001:db8:0:1::1", false)]
    [InlineData("::ffff:10.0.0.0/104", "10.1.1.1", true)]
    [InlineData("10.0.0.0/8", "2001:db8::1", false)]
    public void Contains(string network, string address, bool expected)
    {
        Assert.Equal(expected, IpNetwork.Parse(network).Contains(IPAddress.Parse(address)));
    }

    [Fact]
    public void DefaultNetworkContainsNothing()
    {
        Assert.False(default(IpNetwork).Contains(IPAddress.Loopback));
        Assert.False(default(IpNetwork).Contains(IPAddress.IPv6Any));
        Assert.True(IpNetwork.Parse("::/0").Contains(IPAddress.IPv6Any));
    }

    [Fact]
    public void PrefixLengthIsInTheNetworksFamily()
    {
        Assert.Equal(12, IpNetwork.Parse("172.16/12").PrefixLength);
        Assert.True(IpNetwork.Parse("172.16/12").IsIPv4);
        Assert.Equal(64, IpNetwork.Parse("2001:db8::/64").PrefixLength);
        Assert.False(IpNetwork.Parse("2001:db8::/64").IsIPv4);
    }

    [Fact]
    public void AccessListUnionAndEmpty()
    {
        var list = new IpAccessList([IpNetwork.Parse("10/8")]).Union(new IpAccessList([IpNetwork.Parse("::1")]));
        Assert.False(list.IsEmpty);
        Assert.True(list.Contains(IPAddress.Parse("10.0.0.1")));
        Assert.True(list.Contains(IPAddress.IPv6Loopback));
        Assert.False(list.Contains(IPAddress.Parse("192.168.0.1")));
        Assert.True(IpAccessList.Empty.IsEmpty);
        Assert.False(IpAccessList.Empty.Contains(IPAddress.Loopback));
    }

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("172.20.1.1")]
    [InlineData("192.168.10.10")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("::ffff:192.168.1.1")]
    public void PrivateIpAddIsBuiltInAndHoldsPrivateAddresses(string address) => Assert.True(PrivateIpAdd().Contains(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("2001:db8::1")]
    public void PrivateIpAddHoldsNoPublicAddress(string address) => Assert.False(PrivateIpAdd().Contains(IPAddress.Parse(address)));

    private static IpAccessList PrivateIpAdd()
    {
        var lists = new NamedIpLists();
        Assert.True(lists.TryGet("privateipadd", out IpAccessList list));
        return list;
    }
}
