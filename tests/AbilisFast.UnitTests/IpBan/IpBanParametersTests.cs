namespace AbilisFast.Server.Tests.IpBan;

public sealed class IpBanParametersTests
{
    [Fact]
    public void Format_shows_the_defaults()
    {
        Assert.Equal(
            ["MAX-FAIL:10", "FIND-TIME:1440", "BAN-TIME:10080", "WHITE-LIST:PrivateIpAdd", "ACTION:BAN", "ALERT-TO:postmaster"],
            IpBanParameters.Format(IpBanOptions.Default));
    }

    [Theory]
    [InlineData("MAX-FAIL", "1", "MAX-FAIL:1")]
    [InlineData("max-fail", " 1000 ", "MAX-FAIL:1000")]
    [InlineData("FIND-TIME", "525600", "FIND-TIME:525600")]
    [InlineData("BAN-TIME", "5256000", "BAN-TIME:5256000")]
    [InlineData("BAN-TIME", "1", "BAN-TIME:1")]
    [InlineData("ACTION", "mail", "ACTION:MAIL")]
    [InlineData("ACTION", "Both", "ACTION:BOTH")]
    [InlineData("ACTION", "BAN", "ACTION:BAN")]
    [InlineData("WHITE-LIST", "#", "WHITE-LIST:#")]
    [InlineData("WHITE-LIST", "PrivateIpAdd, 203.0.113/24", "WHITE-LIST:PrivateIpAdd,203.0.113/24")]
    public void Valid_values_are_set_and_formatted(string name, string value, string line)
    {
        Assert.True(IpBanParameters.TrySet(IpBanOptions.Default, name, value, out IpBanOptions updated, out string error));
        Assert.Equal(string.Empty, error);
        Assert.Contains(line, IpBanParameters.Format(updated));
    }

    [Theory]
    [InlineData("MAX-FAIL", "0", "MAX-FAIL:0 is invalid: allowed 1..1000")]
    [InlineData("MAX-FAIL", "1001", "MAX-FAIL:1001 is invalid: allowed 1..1000")]
    [InlineData("MAX-FAIL", "-1", "MAX-FAIL:-1 is invalid: allowed 1..1000")]
    [InlineData("FIND-TIME", "525601", "FIND-TIME:525601 is invalid: allowed 1..525600")]
    [InlineData("FIND-TIME", "x", "FIND-TIME:x is invalid: allowed 1..525600")]
    [InlineData("BAN-TIME", "0", "BAN-TIME:0 is invalid: allowed 1..5256000")]
    [InlineData("BAN-TIME", "5256001", "BAN-TIME:5256001 is invalid: allowed 1..5256000")]
    [InlineData("ACTION", "NONE", "ACTION:NONE is invalid: allowed BAN, MAIL or BOTH")]
    [InlineData("ACTION", "3", "ACTION:3 is invalid: allowed BAN, MAIL or BOTH")]
    [InlineData("WHITE-LIST", "NoSuchList", "WHITE-LIST:NoSuchList is invalid: NoSuchList is not a defined IP list; allowed " + NetListSyntax.Allowed)]
    [InlineData("WHITE-LIST", "1.2.3.4/40", "WHITE-LIST:1.2.3.4/40 is invalid: allowed " + NetListSyntax.Allowed)]
    [InlineData("BAN-LIST", "1", "BAN-LIST is not an IPBAN parameter; allowed MAX-FAIL, FIND-TIME, BAN-TIME, WHITE-LIST, ACTION, ALERT-TO")]
    public void Invalid_values_are_refused_with_exact_errors(string name, string value, string expected)
    {
        IpBanOptions before = IpBanOptions.Default with { MaxFail = 7 };
        Assert.False(IpBanParameters.TrySet(before, name, value, out IpBanOptions updated, out string error));
        Assert.Equal(expected, error);
        Assert.Same(before, updated);
    }

    [Fact]
    public void White_list_expands_nets_and_named_lists()
    {
        var lists = new NamedIpLists();
        Assert.True(lists.TryDefine("Office", "198.51.100/24", "test", out _));
        Assert.True(IpBanParameters.TrySet(IpBanOptions.Default, "WHITE-LIST", "Office,2001:db8::/32", lists, out IpBanOptions updated, out _));
        Assert.True(updated.WhiteList.Contains(IPAddress.Parse("198.51.100.20")));
        Assert.True(updated.WhiteList.Contains(IPAddress.Parse("2001:db8::9")));
        Assert.False(updated.WhiteList.Contains(IPAddress.Loopback));
        Assert.Equal("WHITE-LIST:Office,2001:db8::/32", IpBanParameters.Format(updated)[3]);
    }

    [Fact]
    public void Values_change_the_options()
    {
        IpBanOptions o = IpBanOptions.Default;
        Assert.True(IpBanParameters.TrySet(o, "MAX-FAIL", "3", out o, out _));
        Assert.True(IpBanParameters.TrySet(o, "FIND-TIME", "5", out o, out _));
        Assert.True(IpBanParameters.TrySet(o, "BAN-TIME", "7", out o, out _));
        Assert.True(IpBanParameters.TrySet(o, "ACTION", "BOTH", out o, out _));
        Assert.Equal(3, o.MaxFail);
        Assert.Equal(TimeSpan.FromMinutes(5), o.FindTime);
        Assert.Equal(TimeSpan.FromMinutes(7), o.BanTime);
        Assert.Equal(IpBanAction.Both, o.Action);
        Assert.True(o.WhiteList.Contains(IPAddress.Loopback));
    }
}
