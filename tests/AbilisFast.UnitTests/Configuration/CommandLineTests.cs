namespace AbilisFast.Server.Tests.Configuration;

public sealed class CommandLineTests
{
    [Fact]
    public void Empty()
    {
        CommandLineResult r = CommandLine.Parse([]);
        Assert.Null(r.ConfigPath);
        Assert.Null(r.WorkDir);
        Assert.Empty(r.Overrides);
        Assert.False(r.Help);
        Assert.False(r.Version);
        Assert.Null(r.Subcommand);
    }

    [Fact]
    public void OptionsAndOverridesWithSources()
    {
        CommandLineResult r = CommandLine.Parse(["--config", "a.conf", "SES-TOT:20", "--wdir=/data", "RELAY-NET:#", "HELOHOST:x:y"]);
        Assert.Equal("a.conf", r.ConfigPath);
        Assert.Equal("argument 1", r.ConfigSource);
        Assert.Equal("/data", r.WorkDir);
        Assert.Equal(
            [
                new ParameterOverride("SES-TOT", "20", "argument 3"),
                new ParameterOverride("WDIR", "/data", "argument 4"),
                new ParameterOverride("RELAY-NET", "#", "argument 5"),
                new ParameterOverride("HELOHOST", "x:y", "argument 6"),
            ],
            r.Overrides);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Help(string arg)
    {
        Assert.True(CommandLine.Parse(["DT:5", arg]).Help);
    }

    [Fact]
    public void Version()
    {
        Assert.True(CommandLine.Parse(["--version"]).Version);
        Assert.StartsWith("abilisfast ", HelpText.Version, StringComparison.Ordinal);

        // A JIT run computes CRC-32C with .NET's intrinsics where the CPU has the instruction (the
        // AOT binary's own answer is checked by tools/aot-smoke.sh).
        bool instruction = System.Runtime.Intrinsics.X86.Sse42.X64.IsSupported || System.Runtime.Intrinsics.Arm.Crc32.Arm64.IsSupported;
        Assert.Equal(
            ["abilisfast 1.2.3", "spool CRC-32C: " + (instruction ? "CPU instruction (.NET intrinsics)" : "tables (no CRC instruction)"), ""],
            Subcommands.VersionText("abilisfast 1.2.3").Split(Environment.NewLine));
    }

    [Fact]
    public void Subcommand()
    {
        CommandLineResult r = CommandLine.Parse(["sendmail", "-f", "a@b", "c@d", "X:Y"]);
        Assert.Equal("sendmail", r.Subcommand);
        Assert.Equal(["-f", "a@b", "c@d", "X:Y"], r.SubcommandArgs);
        Assert.Empty(r.Overrides);
    }

    [Theory]
    [InlineData(new[] { "--bogus" }, "argument 1: --bogus is not an option (see --help)")]
    [InlineData(new[] { "DT:5", "user" }, "argument 2: user is not NAME:VALUE (see --help)")]
    [InlineData(new[] { "DT:5", ":5" }, "argument 2: :5 is not NAME:VALUE (see --help)")]
    [InlineData(new[] { "DT:5", "--config" }, "argument 2: --config needs a value (see --help)")]
    [InlineData(new[] { "--wdir=" }, "argument 1: --wdir needs a value (see --help)")]
    public void Errors(string[] args, string expected)
    {
        ConfigurationException e = Assert.Throws<ConfigurationException>(() => CommandLine.Parse(args));
        Assert.Equal(expected, e.Message);
    }

    [Theory]
    [InlineData(new[] { "DT:5", "FOO:1" }, "argument 2: FOO:1 is not a parameter (see --help)")]
    [InlineData(new[] { "SES-TOT:0" }, "argument 1: SES-TOT:0 is invalid: allowed 1..65535")]
    [InlineData(new[] { "DT:5", "--wdir", "" }, "argument 2: --wdir needs a value (see --help)")]
    [InlineData(new[] { "SES-RESERVED-OUT:9", "SES-RESERVED-IN:3" }, "argument 2: SES-RESERVED-IN:3 SES-RESERVED-OUT:9 SES-TOT:10 is invalid: allowed SES-RESERVED-IN + SES-RESERVED-OUT <= SES-TOT")]
    public void LoadErrors(string[] args, string expected)
    {
        ConfigurationException e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(CommandLine.Parse(args)));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void HelpListsEveryParameterWithDefault()
    {
        string help = HelpText.Build();
        Assert.StartsWith(HelpText.Usage, help, StringComparison.Ordinal);
        foreach (ParameterDefinition d in ParameterTable.All)
        {
            string line = help.Split('\n').Single(l => l.TrimStart().StartsWith(d.Name + " ", StringComparison.Ordinal));
            Assert.Contains(d.DefaultText.Length == 0 ? "(empty)" : d.DefaultText, line);
        }
    }
}
