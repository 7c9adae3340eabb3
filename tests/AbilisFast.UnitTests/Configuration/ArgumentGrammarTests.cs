namespace AbilisFast.Server.Tests.Configuration;

/// <summary>The one argument parser and the forms and messages each command keeps with it.</summary>
public sealed class ArgumentGrammarTests
{
    private static readonly ArgumentGrammar Sample = new ArgumentGrammar { MaxPositionals = 2 }
        .Flag("--help", "-h")
        .Option("--config", ValueForms.EqualsSign)
        .Option("-f", ValueForms.Attached | ValueForms.EmptyAllowed)
        .Option("--port", ValueForms.Separate, v => v.All(char.IsAsciiDigit));

    [Fact]
    public void FlagsOptionsAndArgumentsWithTheirNumbers()
    {
        ParsedArguments parsed = Sample.Parse(["a", "-h", "--config", "x.conf", "-fme@x", "--config=y.conf", "b"]);
        Assert.Null(parsed.Error);
        Assert.True(parsed.Has("--help"));
        Assert.Equal("y.conf", parsed.Value("--config"));
        Assert.Equal(6, parsed.NumberOf("--config"));
        Assert.Equal("me@x", parsed.Value("-f"));
        Assert.Equal([new ParsedArgument("a", 1), new ParsedArgument("b", 7)], parsed.Positionals);
        Assert.Equal(["--config", "-f", "--config"], parsed.GivenValues.Select(v => v.Option));
        Assert.Null(parsed.Value("--port"));
        Assert.Equal(0, parsed.NumberOf("--port"));
    }

    [Theory]
    [InlineData(new[] { "--config" }, "MissingValue", 1, "--config")]
    [InlineData(new[] { "a", "--config", "" }, "MissingValue", 2, "--config")]
    [InlineData(new[] { "--config=" }, "MissingValue", 1, "--config=")]
    [InlineData(new[] { "--port", "x1" }, "MissingValue", 1, "--port")]
    [InlineData(new[] { "-x" }, "UnknownOption", 1, "-x")]
    [InlineData(new[] { "a", "b", "c" }, "ExtraArgument", 3, "c")]
    [InlineData(new[] { "a", "-x", "b", "c" }, "UnknownOption", 2, "-x")]
    public void TheFirstArgumentThatDoesNotFitEndsTheParse(string[] args, string kind, int number, string argument)
    {
        ArgumentError error = Assert.IsType<ArgumentError>(Sample.Parse(args).Error);
        Assert.Equal((kind, number, argument), (error.Kind.ToString(), error.Number, error.Argument));
    }

    [Fact]
    public void EmptyValuesWhereAllowedAndAnOptionPrefixOfTwoDashes()
    {
        Assert.Equal(string.Empty, Sample.Parse(["-f", ""]).Value("-f"));
        var ctlLike = new ArgumentGrammar { OptionPrefix = "--", MaxPositionals = 1 }.Option("--user");
        ParsedArguments parsed = ctlLike.Parse(["-x"]);
        Assert.Null(parsed.Error);
        Assert.Equal("-x", Assert.Single(parsed.Positionals).Text);
        Assert.Equal(ArgumentErrorKind.UnknownOption, ctlLike.Parse(["--x"]).Error?.Kind);
    }

    [Fact]
    public void ACheckOnOrdinaryArgumentsGivesItsReason()
    {
        var grammar = new ArgumentGrammar { CheckPositional = a => a.Contains(':') ? null : "is not NAME:VALUE" };
        ArgumentError error = Assert.IsType<ArgumentError>(grammar.Parse(["A:1", "oops", "B:2"]).Error);
        Assert.Equal((ArgumentErrorKind.BadArgument, 2, "oops", "is not NAME:VALUE"), (error.Kind, error.Number, error.Argument, error.Detail));
    }

    [Theory]
    [InlineData(new[] { "bob", "--rights" }, "abilisfast: unexpected argument '--rights'; " + UserCommand.Usage)]
    [InlineData(new[] { "bob", "alice", "--rights", "mail" }, "abilisfast: unexpected argument 'alice'; " + UserCommand.Usage)]
    [InlineData(new[] { "-bob", "--rights", "mail" }, "abilisfast: unexpected argument '-bob'; " + UserCommand.Usage)]
    [InlineData(new[] { "--rights", "mail" }, "abilisfast: " + UserCommand.Usage)]
    [InlineData(new[] { "bob", "--rights", "", "--wdir", "" }, "abilisfast: --rights  is invalid: allowed user, admin, super, mail")]
    public void UserKeepsItsForms(string[] args, string expected)
    {
        var error = new StringWriter();
        Assert.Equal(ExitCodes.Usage, UserCommand.Run(args, new StringReader("pw\n"), TextWriter.Null, error));
        Assert.Equal(expected, error.ToString().TrimEnd());
    }

    [Theory]
    [InlineData(new[] { "--port", "0", "d s smtp" }, "abilisfast: unexpected argument '--port'; " + ControlCommand.Usage)]
    [InlineData(new[] { "--port", "x", "d s smtp" }, "abilisfast: unexpected argument '--port'; " + ControlCommand.Usage)]
    [InlineData(new[] { "d s smtp", "d p smtp" }, "abilisfast: unexpected argument 'd p smtp'; " + ControlCommand.Usage)]
    [InlineData(new[] { "--bogus", "d s smtp" }, "abilisfast: unexpected argument '--bogus'; " + ControlCommand.Usage)]
    [InlineData(new[] { "--user" }, "abilisfast: unexpected argument '--user'; " + ControlCommand.Usage)]
    [InlineData(new[] { "--user", "admin" }, "abilisfast: " + ControlCommand.Usage)]
    public async Task CtlKeepsItsForms(string[] args, string expected)
    {
        var error = new StringWriter();
        Assert.Equal(ExitCodes.Usage, await ControlCommand.RunAsync(args, new StringReader(string.Empty), TextWriter.Null, error));
        Assert.Equal(expected, error.ToString().TrimEnd());
    }

    [Theory]
    [InlineData(new[] { "-x", "a@local.test" }, "abilisfast sendmail: unknown option -x (argument 1); " + SendmailCommand.Usage)]
    [InlineData(new[] { "a@local.test", "-f" }, "abilisfast sendmail: option -f needs a value; " + SendmailCommand.Usage)]
    [InlineData(new[] { "-r", "a@local.test" }, "abilisfast sendmail: no recipients (give them as arguments or use -t); " + SendmailCommand.Usage)]
    [InlineData(new[] { "-i", "-oi", "--" }, "abilisfast sendmail: no recipients (give them as arguments or use -t); " + SendmailCommand.Usage)]
    [InlineData(new[] { "-fnot an address", "a@local.test" }, "abilisfast sendmail: -f not an address: ")]
    [InlineData(new[] { "-rx", "-Q", "a@local.test" }, "abilisfast sendmail: unknown option -Q (argument 2); " + SendmailCommand.Usage)]
    public void SendmailKeepsItsForms(string[] args, string expectedStart)
    {
        var error = new StringWriter();
        Assert.Equal(SysExits.Usage, SendmailCommand.Run(args, new MemoryStream("Subject: x\n\nx\n"u8.ToArray()), TextWriter.Null, error));
        Assert.StartsWith(expectedStart, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void SendmailTakesEveryFormOfSenderAndRecipients()
    {
        string dir = Path.Combine(Path.GetTempPath(), "abilisfast-sendmail-" + Guid.NewGuid().ToString("N"));
        try
        {
            var output = new StringWriter();
            Directory.CreateDirectory(dir);
            int exit = SendmailCommand.Run(["-v", "-oi", "-r", "x@local.test", "-f<cron@local.test>", "--wdir", dir, "<a@local.test>, b@local.test", "c@local.test"],
                new MemoryStream("Subject: x\n\nx\n"u8.ToArray()), output, TextWriter.Null);
            Assert.Equal(SysExits.Ok, exit);
            Assert.Contains("for 3 recipient(s)", output.ToString(), StringComparison.Ordinal);
            string file = Assert.Single(Directory.GetFiles(Path.Combine(PickupDirectory.PathIn(dir), "new")));
            string[] header = [.. File.ReadAllText(file).Split('\n')[1..6].Where(l => !l.StartsWith("U ", StringComparison.Ordinal))];
            Assert.Equal(["F cron@local.test", "R a@local.test", "R b@local.test", "R c@local.test"], header);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void HelpListsEverySubcommandOnALineOfItsOwn()
    {
        string[] lines = Subcommands.Help().Split('\n');
        foreach ((string name, string usage) in Subcommands.All)
        {
            // A command with several forms (user NAME --rights R, user --list, user --delete NAME) has
            // its first on the command's line and each other on the next lines, under the first.
            string[] forms = usage.Split('\n');
            int at = Array.FindIndex(lines, l => l.StartsWith("  " + name + " ", StringComparison.Ordinal));
            Assert.Single(lines, l => l.StartsWith("  " + name + " ", StringComparison.Ordinal));
            Assert.EndsWith(forms[0]["usage: abilisfast ".Length..][(name.Length + 1)..], lines[at].TrimEnd('\r'), StringComparison.Ordinal);
            for (int i = 1; i < forms.Length; i++)
            {
                string form = forms[i].TrimStart()[("abilisfast " + name + " ").Length..];
                Assert.Equal(new string(' ', lines[at].Length - forms[0].Length + "usage: abilisfast ".Length + name.Length + 1) + form, lines[at + i].TrimEnd('\r'));
            }
        }

        foreach (ParameterDefinition d in ParameterTable.All)
        {
            Assert.Single(lines, l => l.StartsWith("  " + d.Name + " ", StringComparison.Ordinal));
        }
    }
}
