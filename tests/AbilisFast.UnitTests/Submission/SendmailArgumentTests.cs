namespace AbilisFast.Server.Tests.Submission;

/// <summary>
/// The command lines cron, mail(1)/s-nail, mutt and scripts give sendmail: every form parses to the
/// same request, the options Postfix's sendmail ignores are ignored, and anything else is refused
/// with EX_USAGE (64) and a line that names it.
/// </summary>
public sealed class SendmailArgumentTests
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    private static SendmailRequest Parse(params string[] args) =>
        SendmailCommand.Parse(args, NoEnvironment) ?? throw new Xunit.Sdk.XunitException($"did not parse: {string.Join(' ', args)}");

    [Theory]
    [InlineData("-f", "a@x.test")]
    [InlineData("-fa@x.test")]
    [InlineData("-f", "<a@x.test>")]
    [InlineData("-f<a@x.test>")]
    [InlineData("-r", "a@x.test")]
    [InlineData("-ra@x.test")]
    [InlineData("-tfa@x.test")]
    [InlineData("-it", "-f", "a@x.test")]
    public void TheSenderInEveryForm(params string[] args) =>
        Assert.Equal("a@x.test", Parse([.. args, "r@x.test"]).Sender);

    [Theory]
    [InlineData("-f", "")]
    [InlineData("-f", "<>")]
    [InlineData("-f<>")]
    public void TheNullSender(params string[] args) => Assert.Equal(string.Empty, Parse(args).Sender);

    [Fact]
    public void WithoutMinusFTheSenderIsLeftToTheServer() => Assert.Null(Parse("r@x.test").Sender);

    [Theory]
    [InlineData(true, "-i")]
    [InlineData(true, "-oi")]
    [InlineData(true, "-ti")]
    [InlineData(true, "-it")]
    [InlineData(true, "-o", "i")]
    [InlineData(false, "-t")]
    [InlineData(false, "-oem")]
    public void MinusIAndMinusOiKeepALoneDot(bool keeps, params string[] args) => Assert.Equal(!keeps, Parse(args).DotEnds);

    [Theory]
    [InlineData("-t")]
    [InlineData("-ti")]
    [InlineData("-oi", "-t")]
    public void MinusT(params string[] args) => Assert.True(Parse(args).ExtractRecipients);

    [Fact]
    public void CronsCommandLine()
    {
        // Debian's cron: sendmail -FCronDaemon -i -B8BITMIME -oem USER
        SendmailRequest r = Parse("-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root");
        Assert.Equal("CronDaemon", r.FullName);
        Assert.False(r.DotEnds);
        Assert.Equal(["root"], r.Recipients);
    }

    [Fact]
    public void SNailsCommandLine()
    {
        SendmailRequest r = Parse("-i", "-F", "Cron Daemon", "-f", "cron@local.test", "--", "to@local.test", "cc@local.test");
        Assert.Equal(("Cron Daemon", "cron@local.test"), (r.FullName, r.Sender));
        Assert.Equal(["to@local.test", "cc@local.test"], r.Recipients);
    }

    [Fact]
    public void PostfixsIgnoredOptionsAreAcceptedAndMeanNothing()
    {
        SendmailRequest r = Parse("-oem", "-odq", "-om", "-oee", "-o7", "-v", "-B", "8BITMIME", "-B8BITMIME", "-N", "never", "-Nsuccess,delay",
            "-R", "hdrs", "-V", "envid", "-m", "-n", "-U", "-G", "-h", "5", "-L", "label", "-O", "x=y", "-X", "log", "-A", "c", "-e", "m", "-p", "smtp", "-bm", "r@x.test");
        Assert.Equal(["r@x.test"], r.Recipients);
        Assert.Null(r.Refusal);
        Assert.True(r.DotEnds);
        Assert.True(r.Verbose);
    }

    [Fact]
    public void AfterTwoDashesEverythingIsARecipient()
    {
        Assert.Equal(["-odd@x.test", "b@x.test"], Parse("-f", "a@x.test", "--", "-odd@x.test", "b@x.test").Recipients);
    }

    [Fact]
    public void SeveralRecipientsPerArgumentAndDisplayNames()
    {
        Assert.Equal(["a@x.test", "b@x.test", "c@x.test", "d@x.test"], Parse("a@x.test, <b@x.test>", "\"Doe, C\" <c@x.test>", "d@x.test").Recipients);
    }

    [Theory]
    [InlineData("--wdir", "/w")]
    [InlineData("--wdir=/w")]
    public void TheWorkDirectoryInBothForms(params string[] args) => Assert.Equal("/w", Parse([.. args, "r@x.test"]).WorkDir);

    [Theory]
    [InlineData("-C", "/etc/x.conf")]
    [InlineData("-C/etc/x.conf")]
    [InlineData("--config", "/etc/x.conf")]
    [InlineData("--config=/etc/x.conf")]
    public void TheConfigurationFile(params string[] args) => Assert.Equal("/etc/x.conf", Parse([.. args, "r@x.test"]).Config);

    [Fact]
    public void TheFullNameComesFromNameWithoutMinusF()
    {
        Assert.Equal("From Env", SendmailCommand.Parse(["r@x.test"], v => v == "NAME" ? "From Env" : null)!.FullName);
        Assert.Equal("Given", SendmailCommand.Parse(["-F", "Given", "r@x.test"], v => v == "NAME" ? "From Env" : null)!.FullName);
    }

    [Theory]
    [InlineData("-bi")]
    [InlineData("-I")]
    [InlineData("-b", "i")]
    public void NewaliasesDoesNothingAndSucceeds(params string[] args)
    {
        Assert.True(Parse(args).Newaliases);
        Assert.Equal(SysExits.Ok, SendmailCommand.Run(args, Stream.Null, TextWriter.Null, TextWriter.Null, NoEnvironment, _ => false));
    }

    [Theory]
    [InlineData(new[] { "-Z", "a@x.test" }, "abilisfast sendmail: unknown option -Z (argument 1); ")]
    [InlineData(new[] { "-tZ", "a@x.test" }, "abilisfast sendmail: unknown option -Z (argument 1); ")]
    [InlineData(new[] { "a@x.test", "--bogus" }, "abilisfast sendmail: unknown option --bogus (argument 2); ")]
    [InlineData(new[] { "a@x.test", "-f" }, "abilisfast sendmail: option -f needs a value; ")]
    [InlineData(new[] { "-F" }, "abilisfast sendmail: option -F needs a value; ")]
    [InlineData(new[] { "-bs" }, "abilisfast sendmail: -bs is not supported")]
    [InlineData(new[] { "-bp" }, "abilisfast sendmail: -bp is not supported")]
    [InlineData(new[] { "-q" }, "abilisfast sendmail: -q is not supported")]
    [InlineData(new[] { "-q30m" }, "abilisfast sendmail: -q is not supported")]
    public void WrongCommandLinesExit64WithOneLineNamingTheArgument(string[] args, string expectedStart)
    {
        var error = new StringWriter();
        Assert.Equal(SysExits.Usage, SendmailCommand.Run(args, new MemoryStream("x\n"u8.ToArray()), TextWriter.Null, error, NoEnvironment, _ => false));
        Assert.StartsWith(expectedStart, error.ToString(), StringComparison.Ordinal);
        Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("x\n.\ny\n", true, "x\n")]
    [InlineData("x\r\n.\r\ny\r\n", true, "x\r\n")]
    [InlineData("x\n..\n. \ny\n", true, "x\n..\n. \ny\n")]
    [InlineData("x\n.\ny\n", false, "x\n.\ny\n")]
    [InlineData(".\n", true, "")]
    public void ALoneDotEndsTheMessageUnlessMinusI(string input, bool dotEnds, string expected) =>
        Assert.Equal(expected, Encoding.UTF8.GetString(SendmailCommand.Read(new MemoryStream(Encoding.UTF8.GetBytes(input)), dotEnds)));

    [Theory]
    [InlineData("sendmail")]
    [InlineData("/usr/sbin/sendmail")]
    [InlineData("/usr/lib/sendmail")]
    public void TheNameSendmailRunsTheSendmailCommand(string argv0)
    {
        CommandLineResult r = CommandLine.Parse(["--wdir", "/w"], argv0);
        Assert.Equal("sendmail", r.Subcommand);
        Assert.Equal(["--wdir", "/w"], r.SubcommandArgs);
        Assert.Null(r.WorkDir);
    }

    [Theory]
    [InlineData("/usr/local/bin/abilisfast")]
    [InlineData("sendmail.postfix")]
    [InlineData(null)]
    public void AnyOtherNameRunsTheServer(string? argv0)
    {
        CommandLineResult r = CommandLine.Parse(["--wdir", "/w"], argv0);
        Assert.Null(r.Subcommand);
        Assert.Empty(r.SubcommandArgs);
        Assert.Equal("/w", r.WorkDir);
    }
}
