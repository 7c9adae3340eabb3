namespace AbilisFast.Server.Tests.IpBan;

/// <summary>IPBAN parameters in the configuration file, on the command line, and kept by <c>save conf</c>.</summary>
public sealed class IpBanConfigurationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private ParameterStore Load(params string[] args) => ConfigurationLoader.LoadStore(CommandLine.Parse(args));

    [Fact]
    public void Ipban_lines_in_the_file_set_the_options()
    {
        string path = _dir.Write("a.conf",
            "HELOHOST:mx.test\n" +
            "iplist Office: 198.51.100/24\n" +
            "ipban MAX-FAIL:3 action:both   # a comment\n" +
            "IPBAN WHITE-LIST:Office,127/8 ALERT-TO:\"ops@local.test, sec@remote.test\"\n");
        ParameterStore store = Load("--config", path);
        Assert.Equal(
            ["MAX-FAIL:3", "FIND-TIME:1440", "BAN-TIME:10080", "WHITE-LIST:Office,127/8", "ACTION:BOTH", "ALERT-TO:ops@local.test,sec@remote.test"],
            IpBanParameters.Format(store.IpBan));
        Assert.True(store.IpBan.WhiteList.Contains(IPAddress.Parse("198.51.100.4")));
        Assert.False(store.IpBan.WhiteList.Contains(IPAddress.Parse("10.0.0.1")));
        Assert.Equal("mx.test", store.GetValue("HELOHOST"));
    }

    [Fact]
    public void The_command_line_sets_them_as_IPBAN_NAME_VALUE_and_overrides_the_file()
    {
        string path = _dir.Write("b.conf", "ipban MAX-FAIL:3 BAN-TIME:60\n");
        ParameterStore store = Load("--config", path, "IPBAN:MAX-FAIL:5", "ipban:WHITE-LIST:#");
        Assert.Equal(5, store.IpBan.MaxFail);
        Assert.Equal(60, store.IpBan.BanTimeMinutes);
        Assert.Equal("#", store.IpBan.WhiteListText);
        Assert.False(store.IpBan.WhiteList.Contains(IPAddress.Loopback));
        Assert.Same(IpBanOptions.Default, Load().IpBan);
    }

    [Theory]
    [InlineData("ipban MAX-FAIL:0\n", "c.conf:1: ipban MAX-FAIL:0 is invalid: allowed 1..1000")]
    [InlineData("\nipban ALERT-TO:nobody@\n", "c.conf:2: ipban ALERT-TO:nobody@ is invalid: 'nobody@' is not a valid mail address; allowed one or more mail addresses separated by commas")]
    [InlineData("ipban WHITE-LIST:Later\niplist Later: 10/8\n", "c.conf:1: ipban WHITE-LIST:Later is invalid: Later is not a defined IP list; allowed " + NetListSyntax.Allowed)]
    [InlineData("ipban MAXFAIL:3\n", "c.conf:1: ipban MAXFAIL is not an IPBAN parameter; allowed MAX-FAIL, FIND-TIME, BAN-TIME, WHITE-LIST, ACTION, ALERT-TO")]
    [InlineData("ipban 3\n", "c.conf:1: ipban 3 is not NAME:VALUE; allowed MAX-FAIL, FIND-TIME, BAN-TIME, WHITE-LIST, ACTION, ALERT-TO")]
    [InlineData("ipban   # nothing\n", "c.conf:1: ipban   # nothing is invalid: allowed ipban NAME:VALUE [NAME:VALUE ...]")]
    public void Bad_ipban_lines_stop_the_start_naming_file_and_line(string content, string expected)
    {
        string path = _dir.Write("c.conf", content);
        var e = Assert.Throws<ConfigurationException>(() => ConfigFileReader.Apply(Load(), path, "c.conf"));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void A_bad_IPBAN_argument_names_the_argument()
    {
        var e = Assert.Throws<ConfigurationException>(() => Load("IPBAN:ACTION:NONE"));
        Assert.Equal("argument 1: ipban ACTION:NONE is invalid: allowed BAN, MAIL or BOTH", e.Message);
        e = Assert.Throws<ConfigurationException>(() => Load("IPBAN:7"));
        Assert.StartsWith("argument 1: IPBAN:7 is invalid: allowed IPBAN:NAME:VALUE", e.Message);
    }

    [Fact]
    public void Save_conf_writes_the_console_changes_and_a_new_start_reads_them_back()
    {
        string path = _dir.Write("d.conf", "LOCAL-DOMAIN:local.test\niplist Office: 198.51.100/24\nipban BAN-TIME:60\n");
        ParameterStore store = Load("--config", path);
        var configuration = new LiveConfiguration(store, path);
        using var server = new TestServerContext();
        var bans = new IpBanService(server.WorkDir, TimeProvider.System, configuration.IpBan);
        var commands = new AdminCommands(server.Context, Environment.TickCount64, configuration, bans);

        Assert.Contains("       MAX-FAIL:7 set, in force now (save conf keeps it)\r\n", commands.Execute("s p ipban MAX-FAIL:7", UserRights.Admin).Text);
        Assert.Contains("WHITE-LIST:Office set", commands.Execute("s p ipban WHITE-LIST:Office", UserRights.Admin).Text);
        Assert.Contains("ALERT-TO:ops@local.test,sec@remote.test set", commands.Execute("s p ipban ALERT-TO:ops@local.test, sec@remote.test", UserRights.Admin).Text);
        Assert.Contains("ERROR: ACTION:SOMETIMES is invalid", commands.Execute("s p ipban ACTION:SOMETIMES", UserRights.Admin).Text);
        Assert.Equal(7, bans.Options.MaxFail);
        Assert.True(bans.Options.WhiteList.Contains(IPAddress.Parse("198.51.100.1")));
        Assert.Contains($"Configuration saved to {path}", commands.Execute("save conf", UserRights.Admin).Text);

        string[] saved = File.ReadAllLines(path);
        Assert.Contains("ipban MAX-FAIL:7", saved);
        Assert.Contains("ipban BAN-TIME:60", saved);
        Assert.Contains("ipban WHITE-LIST:Office", saved);
        Assert.Contains("ipban ALERT-TO:ops@local.test,sec@remote.test", saved);
        Assert.DoesNotContain(saved, l => l.StartsWith("ipban FIND-TIME", StringComparison.Ordinal) || l.StartsWith("ipban ACTION", StringComparison.Ordinal));
        Assert.True(Array.IndexOf(saved, "iplist Office: 198.51.100/24") < Array.IndexOf(saved, "ipban WHITE-LIST:Office"));

        ParameterStore again = Load("--config", path);
        Assert.Equal(IpBanParameters.Format(bans.Options), IpBanParameters.Format(again.IpBan));
        Assert.True(again.IpBan.WhiteList.Contains(IPAddress.Parse("198.51.100.1")));
        Assert.Equal("local.test", again.GetValue("LOCAL-DOMAIN"));
    }

    [Fact]
    public void Save_conf_with_default_ipban_parameters_writes_no_ipban_line()
    {
        string path = _dir.Write("e.conf", "HELOHOST:mx.test\n");
        var configuration = new LiveConfiguration(Load("--config", path), path);
        configuration.Save(_dir.Path);
        Assert.DoesNotContain(File.ReadAllLines(path), l => l.StartsWith("ipban", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Help_lists_every_ipban_parameter_with_its_default()
    {
        string help = HelpText.Build();
        Assert.Contains("'ipban NAME:VALUE ...' lines", help);
        foreach (string line in IpBanParameters.Format(IpBanOptions.Default))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            Assert.Matches($@"\n  {Regex.Escape(line[..colon])} +{Regex.Escape(line[(colon + 1)..])};", help);
        }
    }
}
