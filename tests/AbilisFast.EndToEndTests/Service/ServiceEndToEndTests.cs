namespace AbilisFast.Server.Tests.Service;

/// <summary>
/// The executable as a service sees it: SIGHUP reloads, --check-config, the exit codes and their
/// messages, and an idle server that leaves the disk alone.
/// </summary>
[Collection("EndToEnd")]
public sealed class ServiceEndToEndTests
{
    /// <summary>
    /// Greets, then RCPT for <c>count</c> recipients (postmaster, which every local domain has, each
    /// time: a made-up local name would get 550 under LOCAL-RCPT:KNOWN); prints the greeting and
    /// every RCPT reply code.
    /// </summary>
    private const string RcptScript = """
        import smtplib, sys
        s = smtplib.SMTP(timeout=20)
        code, greeting = s.connect('127.0.0.1', int(sys.argv[1]))
        print('GREETING', greeting.decode())
        s.ehlo('client.test')
        s.mail('sender@client.test')
        codes = [s.rcpt('postmaster@local.test')[0] for i in range(int(sys.argv[2]))]
        print('RCPT', ' '.join(str(c) for c in codes))
        s.quit()
        """;

    internal static async Task<(string Greeting, string Codes)> RcptAsync(ServerProcess server, int count)
    {
        var (exit, output) = await Tool.RunAsync("python3", ["-c", RcptScript, server.Port.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(exit == 0, output);
        string[] lines = output.Split('\n');
        return (lines.Single(l => l.StartsWith("GREETING ", StringComparison.Ordinal))[9..],
            lines.Single(l => l.StartsWith("RCPT ", StringComparison.Ordinal))[5..]);
    }

    private static Task<string> StderrLineAsync(ServerProcess server, string contains, int skip) =>
        Eventually.WaitAsync(
            () => server.Stderr.Split('\n').Where(l => l.Contains(contains, StringComparison.Ordinal)).Skip(skip).FirstOrDefault(),
            $"a stderr line with '{contains}'");

    [Fact]
    public async Task SIGHUP_applies_live_parameters_names_restart_ones_keeps_the_command_line_and_refuses_a_broken_file()
    {
        string workDir = ServerProcess.NewWorkDir();
        string config = Path.Combine(workDir, "abilisfast.conf");
        File.WriteAllText(config, "LOCAL-DOMAIN:local.test STORE-MB:YES QUEUE-HOLD:YES\nMAX-RCPT:2\nHELOHOST:file.test\n");
        using ServerProcess server = await ServerProcess.StartAsync(workDir, null, (int?)null, "--config", config, "HELOHOST:cli.test");
        Assert.Equal(("cli.test ESMTP AbilisFast", "250 250 452"), await RcptAsync(server, 3));

        File.WriteAllText(config, "LOCAL-DOMAIN:local.test STORE-MB:YES QUEUE-HOLD:YES\nMAX-RCPT:3\nHELOHOST:other.test\nSES-TOT:20\n");
        await server.SignalAsync("HUP");
        string reload = await StderrLineAsync(server, "reload", 0);
        Assert.Equal("abilisfast: reload: SES-TOT needs a restart; applied: MAX-RCPT", reload.TrimEnd('\r'));
        Assert.Equal(("cli.test ESMTP AbilisFast", "250 250 250 452"), await RcptAsync(server, 4));

        File.WriteAllText(config, "LOCAL-DOMAIN:local.test STORE-MB:YES QUEUE-HOLD:YES\nMAX-RCPT:1\nMAX-RCPT:lots\n");
        await server.SignalAsync("HUP");
        string refused = await StderrLineAsync(server, "reload", 1);
        Assert.Equal($"abilisfast: reload refused, the running configuration stays: {config}:3: MAX-RCPT:lots is invalid: allowed 1..65535", refused.TrimEnd('\r'));
        Assert.Equal(("cli.test ESMTP AbilisFast", "250 250 250 452"), await RcptAsync(server, 4));

        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task Check_config_says_OK_or_gives_the_starts_own_error_and_exit_code_and_creates_nothing()
    {
        using var tmp = new Configuration.TempDir();
        string dir = tmp.Path;
        string good = tmp.Write("good.conf", "LOCAL-DOMAIN:local.test\nLOG:YES\n");
        string wdir = Path.Combine(dir, "not-yet", "data");
        var (exit, output) = await ServerProcess.CheckConfigAsync("--config", good, "--wdir", wdir, "TCP-LOCPORT:2600");
        Assert.Equal(0, exit);
        Assert.Equal($"abilisfast: configuration OK ({good}; SMTP port 2600, admin port 127.0.0.1:2323, WDIR {wdir}, LOG:YES; 0 mail user(s), 0 alias(es), 0 catch-all(s))", output.Trim());
        Assert.False(Directory.Exists(Path.Combine(dir, "not-yet"))); // checked, not created

        string bad = tmp.Write("bad.conf", "LOCAL-DOMAIN:local.test\n\nDT:0\n");
        (exit, output) = await ServerProcess.CheckConfigAsync("--config", bad);
        var (startExit, startOutput) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["--config", bad, "--wdir", wdir]);
        Assert.Equal(2, exit);
        Assert.Equal(2, startExit);
        Assert.Equal($"abilisfast: {bad}:3: DT:0 is invalid: allowed 1..65535", output.Trim());
        Assert.Equal(startOutput.Trim(), output.Trim());

        (exit, output) = await ServerProcess.CheckConfigAsync("TCP-LOCPORT:70000");
        Assert.Equal(2, exit);
        Assert.Contains("argument 2: TCP-LOCPORT:70000 is invalid", output, StringComparison.Ordinal);

        // A TLS-CERT that a start would refuse: the same line and exit code, before any start.
        string notPem = tmp.Write("cert.pem", "not a certificate");
        string tlsWdir = Path.Combine(dir, "tls-data");
        (exit, output) = await ServerProcess.CheckConfigAsync("--wdir", tlsWdir, $"TLS-CERT:{notPem}");
        (startExit, startOutput) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["--wdir", tlsWdir, $"TLS-CERT:{notPem}", $"TCP-LOCPORT:{ServerProcess.FreePort()}", "ADMIN-ADDR:#"]);
        Assert.Equal(2, exit);
        Assert.Equal(2, startExit);
        Assert.StartsWith($"abilisfast: TLS-CERT {notPem} cannot be used", output.Trim(), StringComparison.Ordinal);
        Assert.Contains(output.Trim(), startOutput, StringComparison.Ordinal);

        string file = tmp.Write("a-file", "x");
        (exit, output) = await ServerProcess.CheckConfigAsync("--wdir", Path.Combine(file, "data"));
        Assert.Equal(4, exit);
        Assert.Contains($"{file} is a file, not a folder", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_in_use_exits_3_and_says_what_to_do()
    {
        string dir = ServerProcess.NewWorkDir();
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        other.Bind(new IPEndPoint(IPAddress.Any, 0));
        other.Listen();
        int port = ((IPEndPoint)other.LocalEndPoint!).Port;
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath,
            ["--wdir", Path.Combine(dir, "data"), $"TCP-LOCPORT:{port}", $"ADMIN-PORT:{ServerProcess.FreePort()}"]);
        Assert.Equal(3, exit);
        Assert.Contains($"abilisfast: port {port} is in use (another server?); stop it or set TCP-LOCPORT:PORT", output, StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task An_unusable_or_busy_WDIR_exits_4_and_says_what_to_do()
    {
        string dir = ServerProcess.NewWorkDir();
        string file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "x");
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath,
            ["--wdir", Path.Combine(file, "data"), $"TCP-LOCPORT:{ServerProcess.FreePort()}", "ADMIN-ADDR:#"]);
        Assert.Equal(4, exit);
        Assert.Contains($"abilisfast: WDIR {Path.Combine(file, "data")} is not usable ({file} is a file, not a folder)", output, StringComparison.Ordinal);
        Assert.Contains("make it a writable folder for this user or set --wdir DIR", output, StringComparison.Ordinal);

        using ServerProcess running = await ServerProcess.StartAsync(dir);
        (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath,
            ["--wdir", Path.Combine(dir, "data"), $"TCP-LOCPORT:{ServerProcess.FreePort()}", "ADMIN-ADDR:#"]);
        Assert.Equal(4, exit);
        Assert.Contains($"abilisfast: WDIR {Path.Combine(dir, "data")} is in use by another abilisfast", output, StringComparison.Ordinal);
        Assert.Contains("stop that server or set --wdir DIR", output, StringComparison.Ordinal);
        Assert.False(running.HasExited);
        running.DeleteWorkDir();
    }

    [Fact]
    public async Task LOG_is_switched_on_from_the_console_and_the_file_gets_the_rings_lines()
    {
        using ServerProcess server = await ServerProcess.StartAsync(null, null, (int?)null, "LOCAL-DOMAIN:local.test", "STORE-MB:YES");
        string logDir = Path.Combine(server.WorkDir, "data", "log");
        Assert.Equal("250", (await RcptAsync(server, 1)).Codes);
        await Eventually.HoldsForAsync(() => !Directory.Exists(logDir), SessionLogFileInterval, "LOG:NO: no log folder");
        Assert.False(Directory.Exists(logDir)); // LOG:NO: nothing on disk

        Assert.Contains("LOG:YES set, in force now", await server.CtlAsync("s p smtp LOG:YES"), StringComparison.Ordinal);
        Assert.Equal("250", (await RcptAsync(server, 1)).Codes);
        string logFile = Path.Combine(logDir, "smtp.log");
        string[] lines = await Eventually.WaitAsync(
            () => File.Exists(logFile) && File.ReadAllText(logFile).Contains("Start in-bound session", StringComparison.Ordinal) ? File.ReadAllLines(logFile) : null,
            "the session in smtp.log");

        // Every line in the file is a line of the ring (debug res:smtp lsn:3 shows the ring).
        string ring = await server.CtlAsync("debug res:smtp lsn:3");
        Assert.All(lines, line => Assert.Contains(line, ring, StringComparison.Ordinal));
        Assert.Single(lines, l => l.Contains("Start in-bound session", StringComparison.Ordinal)); // the session before LOG:YES is not there
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        server.DeleteWorkDir();
    }

    private static readonly TimeSpan SessionLogFileInterval = TimeSpan.FromSeconds(1.5);
}
