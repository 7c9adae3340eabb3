namespace AbilisFast.Server.Tests.Admin;

/// <summary>The admin port over real TCP: telnet bytes, login, rights, commands, errors.</summary>
public sealed class AdminServerTests : IAsyncLifetime
{
    private static readonly byte[] TelnetHello = [255, 253, 1, 255, 251, 31, 255, 250, 31, 0, 80, 0, 24, 255, 240, 255, 253, 3];

    private readonly TestServerContext _test = new("LOCAL-DOMAIN:local.test", "NODENAME:ABILIS_CPX");
    private AdminServer _admin = null!;
    private LiveConfiguration _configuration = null!;

    public Task InitializeAsync()
    {
        var users = UserStore.Load(_test.WorkDir);
        users.Set("viewer", UserRights.User, "view-pass");
        users.Set("boss", UserRights.Admin, "boss-pass");
        users.Set("mailer", UserRights.Mail, "mail-pass");
        ParameterStore store = ConfigurationLoader.LoadStore(CommandLine.Parse(
            [$"WDIR:{_test.WorkDir}", "HELOHOST:mx.test", "LOCAL-DOMAIN:local.test", "NODENAME:ABILIS_CPX", "STORE-MB:YES"]));
        _configuration = new LiveConfiguration(store, configPath: null);
        _configuration.Attach(_test.Context);
        _admin = new AdminServer(_test.Context, new AbilisFast.Server.Access.UserDirectory(_test.WorkDir), _configuration);
        _admin.Start(new IPEndPoint(IPAddress.Loopback, 0));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _admin.DisposeAsync();
        _test.Dispose();
    }

    private async Task<ConsoleTestClient> LoginAsync(string user, string password, bool telnet = false)
    {
        ConsoleTestClient client = await ConsoleTestClient.ConnectAsync(_admin.LocalEndPoint!.Port);
        if (telnet)
        {
            await client.SendAsync(TelnetHello);
        }

        await client.ReadUntilAsync("Login:");
        await client.SendAsync(user + "\r\n");
        await client.ReadUntilAsync("Password:");
        await client.SendAsync(password + "\r\n");
        return client;
    }

    /// <summary>Logs in and reads up to the first command prompt (the login was accepted).</summary>
    private async Task<ConsoleTestClient> LoginToPromptAsync(string user, string password)
    {
        ConsoleTestClient client = await LoginAsync(user, password);
        await client.ReadUntilAsync("] ABILIS_CPX:");
        return client;
    }

    private static async Task<string> CommandAsync(ConsoleTestClient client, string command)
    {
        await client.SendAsync(command + "\r\n");
        return await client.ReadUntilAsync("] ABILIS_CPX:");
    }

    [Fact]
    public async Task TelnetNegotiationIsConsumedAndThePasswordIsNotEchoed()
    {
        ConsoleTestClient client = await ConsoleTestClient.ConnectAsync(_admin.LocalEndPoint!.Port);
        await using (client)
        {
            await client.SendAsync(TelnetHello);
            Assert.Equal("Login:", await client.ReadUntilAsync("Login:"));
            await client.SendAsync("viewer\r\n");
            string beforePassword = await client.ReadUntilAsync("Password:");
            Assert.Contains("\u00ff\u00fb\u0001", beforePassword); // IAC WILL ECHO: the client stops echoing
            await client.SendAsync("view-pass\r\n");
            string prompt = await client.ReadUntilAsync("] ABILIS_CPX:");
            Assert.Contains("\u00ff\u00fc\u0001", prompt); // IAC WONT ECHO afterwards
            Assert.Matches(@"\[\d\d:\d\d:\d\d\] ABILIS_CPX:$", prompt);
        }
    }

    [Fact]
    public async Task DisplayCommandsWorkForAUser()
    {
        await using ConsoleTestClient client = await LoginToPromptAsync("viewer", "view-pass");
        string output = await CommandAsync(client, "d d smtp");
        Assert.Contains("\r\nRES:Smtp ----------------------------------------------------------------------\r\n", output);
        Assert.Contains("STATE:ACTIVE", output);
        output = await CommandAsync(client, "D DE SMTP");
        Assert.Contains("       CH TYPE TCP-State LocAdd-LocPort        RemAdd-RemPort        SMTP-State\r\n", output);
        Assert.Contains("       0  OUT  READY                                                 READY\r\n", output);
        Assert.Contains("       9  IN   LISTEN                          READY\r\n", output);
        output = await CommandAsync(client, "d s smtp");
        Assert.Contains("       CALL-SUCC  |          0|          0|CALL-FAIL  |          0|          0|\r\n", output);
    }

    [Fact]
    public async Task DebugNeedsAdminRights()
    {
        await using (ConsoleTestClient viewer = await LoginAsync("viewer", "view-pass"))
        {
            await viewer.ReadUntilAsync("] ABILIS_CPX:");
            Assert.Contains("ERROR: this command needs administrator or super user rights", await CommandAsync(viewer, "debug res:smtp"));
            Assert.Contains("ERROR: this command needs administrator or super user rights", await CommandAsync(viewer, "clear s smtp"));
        }

        await using ConsoleTestClient boss = await LoginToPromptAsync("boss", "boss-pass");
        string help = await CommandAsync(boss, "debug res:smtp");
        Assert.Matches(@"\r\nRES:Smtp -+\r\n       BufferLength:64512  Date/Time:\d\d/\d\d/\d{4} \d\d:\d\d:\d\d TraceTime:\d+\r\n", help);
        Assert.Contains("   LSN:3 CMD:CLR                              - Clear session log\r\n", help);
        Assert.Contains("To use these commands you need to have administrator or super user rights.\r\n", help);
    }

    [Fact]
    public async Task SessionLogIsShownAndCleared()
    {
        _test.Log.Write(LogTag.In, "Receiving message: 84A582F6"u8);
        await using ConsoleTestClient boss = await LoginToPromptAsync("boss", "boss-pass");
        Assert.Matches(@"\d\d/\d\d \d\d:\d\d:\d\d \[IN\]  Receiving message: 84A582F6\r\n", await CommandAsync(boss, "debug res:smtp lsn:3"));
        await CommandAsync(boss, "debug res:smtp lsn:3 cmd:clr");
        Assert.DoesNotContain("Receiving message", await CommandAsync(boss, "debug res:smtp lsn:3"));
        Assert.Contains("Debug:ON", await CommandAsync(boss, "debug res:smtp lsn:1"));
        Assert.True(_test.Log.Verbose);

        // With debug on, every command and reply line of a session goes into the ring log.
        await using (SessionHarness s = await SessionHarness.StartAsync(_test.Context))
        {
            await s.CommandAsync("EHLO traced.test");
        }

        string log = await CommandAsync(boss, "debug res:smtp lsn:3");
        Assert.Matches(@"\[  \d\] <- EHLO traced.test\r\n", log);
        Assert.Matches(@"\[  \d\] -> 250-mx.test\r\n", log);
        Assert.Matches(@"\[  \d\] -> 250 CHUNKING\r\n", log);
        Assert.Contains("Debug:OFF", await CommandAsync(boss, "debug res:smtp lsn:1"));
    }

    [Fact]
    public async Task ClearRestartsTheStatistics()
    {
        _test.Context.Counters.Increment(SmtpCounter.CallSucc, Direction.In);
        await using ConsoleTestClient boss = await LoginToPromptAsync("boss", "boss-pass");
        Assert.Contains("CALL-SUCC  |          1|", await CommandAsync(boss, "d s smtp"));
        await CommandAsync(boss, "clear s smtp");
        Assert.Contains("CALL-SUCC  |          0|", await CommandAsync(boss, "d s smtp"));
    }

    [Fact]
    public async Task WrongPasswordsAndMailOnlyUsersAreRefused()
    {
        var failures = new System.Collections.Concurrent.ConcurrentQueue<IPAddress>();
        _admin.LoginFailed += (address, _) => failures.Enqueue(address);
        await using ConsoleTestClient client = await ConsoleTestClient.ConnectAsync(_admin.LocalEndPoint!.Port);
        foreach (var (user, password) in new[] { ("viewer", "wrong"), ("nobody", "x"), ("mailer", "mail-pass") })
        {
            await client.ReadUntilAsync("Login:");
            await client.SendAsync(user + "\r\n");
            await client.ReadUntilAsync("Password:");
            await client.SendAsync(password + "\r\n");
            await client.ReadUntilAsync("Login incorrect\r\n");
        }

        Assert.True(await client.IsClosedAsync());
        Assert.Equal([IPAddress.Loopback, IPAddress.Loopback, IPAddress.Loopback], failures.ToArray());
        Assert.Equal(3, _test.Log.ReadLines().Count(l => l.Contains("[PORT] Console login failed for '", StringComparison.Ordinal) && l.EndsWith("' from 127.0.0.1", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task BadInputGetsOneErrorLineAndTheSessionGoesOn()
    {
        await using ConsoleTestClient client = await LoginToPromptAsync("viewer", "view-pass");
        Assert.Contains("ERROR: unknown command 'frobnicate' (type help)\r\n", await CommandAsync(client, "frobnicate"));
        Assert.Contains("ERROR: line too long\r\n", await CommandAsync(client, new string('d', 5000)));
        Assert.Contains("ERROR: only printable text is accepted\r\n", await CommandAsync(client, "d d \u0001smtp"));
        Assert.Contains("ERROR: usage: d d|de|s|se|p|m|q smtp\r\n", await CommandAsync(client, "d d"));
        Assert.Contains("D D SMTP", await CommandAsync(client, "help"));

        // LF alone ends a line too (nc without -C).
        await client.SendAsync("d d smtp\n");
        Assert.Contains("STATE:ACTIVE", await client.ReadUntilAsync("] ABILIS_CPX:"));
        await client.SendAsync("quit\r\n");
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task ParametersAreShownSetLiveAndSaved()
    {
        await using ConsoleTestClient boss = await LoginToPromptAsync("boss", "boss-pass");
        string shown = await CommandAsync(boss, "d p smtp");
        Assert.Contains("\r\n       MAX-RCPT:100\r\n", shown);
        Assert.Contains("\r\n       TCP-LOCPORT:2525 *\r\n", shown);
        Assert.Equal(ParameterTable.Count, shown.Split("\r\n").Count(l => l.StartsWith("       ", StringComparison.Ordinal) && l.Contains(':', StringComparison.Ordinal)));

        Assert.Contains("MAX-RCPT:2 set, in force now", await CommandAsync(boss, "s p smtp max-rcpt:2"));
        Assert.Equal(2, _test.Context.Settings.MaxRcpt);
        Assert.Contains("HELOHOST:relay.test set, in force now", await CommandAsync(boss, "s p smtp HELOHOST:relay.test"));
        Assert.Contains("SES-TOT:20 set; takes effect after a restart", await CommandAsync(boss, "s p smtp SES-TOT:20"));
        Assert.Equal(10, _test.Context.Settings.SesTot);
        Assert.Contains("ERROR: console: SES-TOT:0 is invalid: allowed 1..65535", await CommandAsync(boss, "s p smtp SES-TOT:0"));
        Assert.Contains("ERROR: FOO is not a parameter", await CommandAsync(boss, "s p smtp FOO:1"));
        Assert.Contains("\r\n       SES-TOT:20 *\r\n", await CommandAsync(boss, "d p smtp"));

        // Live: the next session sees the new limit and host name.
        await using (SessionHarness s = await SessionHarness.StartAsync(_test.Context))
        {
            Assert.StartsWith("250-relay.test", await s.CommandAsync("EHLO c.test"));
            await s.CommandAsync("MAIL FROM:<a@c.test>");
            await s.CommandAsync("RCPT TO:<x@local.test>");
            await s.CommandAsync("RCPT TO:<y@local.test>");
            Assert.StartsWith("452 4.5.3", await s.CommandAsync("RCPT TO:<z@local.test>"));
        }

        string saved = await CommandAsync(boss, "save conf");
        string path = Path.Combine(_test.WorkDir, "abilisfast.conf");
        Assert.Contains($"Configuration saved to {path} (mode 0600, it may hold SERVER-PWD): 3 parameter(s) and 0 IPBAN parameter(s) set in the file or on the console\r\n", saved);
        Assert.Contains($"This server did not start with --config: start with --config {path} to use it\r\n", saved);
        SmtpSettings reloaded = ConfigurationLoader.Load(CommandLine.Parse(["--config", path]));
        Assert.Equal(2, reloaded.MaxRcpt);
        Assert.Equal(20, reloaded.SesTot);
        Assert.Equal("relay.test", reloaded.HeloHost);
    }

    [Fact]
    public async Task UsersCannotSetParameters()
    {
        await using ConsoleTestClient viewer = await LoginToPromptAsync("viewer", "view-pass");
        Assert.Contains("ERROR: this command needs administrator or super user rights", await CommandAsync(viewer, "s p smtp MAX-RCPT:1"));
        Assert.Contains("ERROR: this command needs administrator or super user rights", await CommandAsync(viewer, "save conf"));
        Assert.Equal(100, _test.Context.Settings.MaxRcpt);
        foreach (string action in (string[])["retry", "hold", "rel", "del"])
        {
            Assert.Contains("ERROR: this command needs administrator or super user rights", await CommandAsync(viewer, $"{action} q smtp all"));
        }
    }

    [Fact]
    public async Task QueueActionsSayWhatIsWrongWithTheirArguments()
    {
        await using ConsoleTestClient boss = await LoginToPromptAsync("boss", "boss-pass");
        Assert.Contains("ERROR: usage: hold q smtp ID|ALL", await CommandAsync(boss, "hold q smtp"));
        Assert.Contains("ERROR: usage: del q smtp ID|ALL", await CommandAsync(boss, "del x smtp 1"));
        // This test server has no delivery engine: there is nothing to control.
        Assert.Contains("ERROR: nothing delivers in this server", await CommandAsync(boss, "retry q smtp all"));
    }

    [Fact]
    public async Task MetricsAreOpenMetricsText()
    {
        _test.Context.Counters.Increment(SmtpCounter.ExtSucc, Direction.In);
        _test.Context.Counters.Increment(SmtpCounter.DeniedIp, Direction.In);
        await using ConsoleTestClient viewer = await LoginToPromptAsync("viewer", "view-pass");
        string metrics = await CommandAsync(viewer, "d m smtp");
        Assert.Contains("abilisfast_smtp_active 1\r\n", metrics);
        Assert.Contains("abilisfast_smtp_events_total{counter=\"EXT-SUCC\",direction=\"in\"} 1\r\n", metrics);
        Assert.Contains("abilisfast_smtp_events_total{counter=\"DENIED-IP\",direction=\"in\"} 1\r\n", metrics);
        Assert.DoesNotContain("counter=\"DENIED-IP\",direction=\"out\"", metrics);
        Assert.Contains("abilisfast_smtp_queue{queue=\"out\"} 0\r\n", metrics);
        Assert.True(MetricValue(metrics, "process_resident_memory_bytes") > 1 << 20, "a process holds more than 1 MiB resident");
        Assert.True(MetricValue(metrics, "abilisfast_gc_heap_bytes") > 0);
        Assert.True(MetricValue(metrics, "abilisfast_gc_committed_bytes") > 0);
        Assert.Contains("abilisfast_gc_collections_total{generation=\"0\"} ", metrics);
        Assert.Contains("# EOF\r\n", metrics);
        foreach (string line in metrics[..metrics.IndexOf("# EOF", StringComparison.Ordinal)].Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.Matches(@"^(# (TYPE|HELP) \w+ .+|\w+(\{[^}]*\})? -?\d+)$", line);
        }
    }

    private static long MetricValue(string metrics, string name)
    {
        string line = metrics.Split("\r\n").Single(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return long.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task EightLoggedInSessionsAreTheLimit()
    {
        var open = new List<ConsoleTestClient>();
        try
        {
            for (int i = 0; i < AdminServer.MaxSessions; i++)
            {
                ConsoleTestClient client = await LoginAsync("viewer", "view-pass");
                open.Add(client);
                await client.ReadUntilAsync("] ABILIS_CPX:");
            }

            await using ConsoleTestClient extra = await ConsoleTestClient.ConnectAsync(_admin.LocalEndPoint!.Port);
            await extra.ReadUntilAsync("Too many console sessions, try again later\r\n");
            Assert.True(await extra.IsClosedAsync());

            // Every logged-in session goes on.
            Assert.Contains("ABILIS_CPX:", await CommandAsync(open[0], "d s smtp"));
        }
        finally
        {
            foreach (ConsoleTestClient client in open)
            {
                await client.DisposeAsync();
            }
        }

        // Once they are gone, a new session is served again.
        await Eventually.WaitAsync(() => _admin.Connections == (0, 0), "the sessions were released");
        await using ConsoleTestClient again = await LoginToPromptAsync("viewer", "view-pass");
    }

    [Fact]
    public async Task ConnectionsThatNeverLogInGiveTheirPlaceToTheNewestOne()
    {
        var idle = new List<ConsoleTestClient>();
        try
        {
            // One logged-in session and seven (then more) connections that sit at the login prompt.
            await using ConsoleTestClient boss = await LoginToPromptAsync("boss", "boss-pass");
            for (int i = 0; i < AdminServer.MaxSessions + 2; i++)
            {
                ConsoleTestClient client = await ConsoleTestClient.ConnectAsync(_admin.LocalEndPoint!.Port);
                idle.Add(client);
                await client.ReadUntilAsync("Login:");
            }

            // The oldest ones at the prompt were closed, each for a newer one; the logged-in one never.
            for (int i = 0; i < 3; i++)
            {
                await idle[i].ReadUntilAsync("Console busy: this connection did not log in, its place went to a newer one\r\n");
                Assert.True(await idle[i].IsClosedAsync());
            }

            Assert.Equal((AdminServer.MaxSessions - 1, 1), _admin.Connections);
            Assert.Contains("ABILIS_CPX:", await CommandAsync(boss, "d s smtp"));

            // The administrator still logs in.
            await using ConsoleTestClient admin = await LoginToPromptAsync("boss", "boss-pass");
            Assert.Equal((AdminServer.MaxSessions - 2, 2), _admin.Connections);
        }
        finally
        {
            foreach (ConsoleTestClient client in idle)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Telnet negotiation without end (IAC WILL/DO, subnegotiations, IAC IAC) before any login line:
    /// consumed as it comes, never buffered, ended at the login deadline; others log in meanwhile.
    /// </summary>
    [Fact]
    public async Task AnEndlessTelnetNegotiationFloodIsEndedAtTheLoginDeadline()
    {
        _admin.LoginDeadline = TimeSpan.FromSeconds(2);
        await using ConsoleTestClient flooder = await ConsoleTestClient.ConnectAsync(_admin.LocalEndPoint!.Port);
        await flooder.ReadUntilAsync("Login:");
        byte[] burst = [.. Enumerable.Repeat<byte[]>([255, 251, 1, 255, 253, 3, 255, 250, 31, 0, 80, 255, 240, 255, 255], 4000).SelectMany(b => b)];

        // About 2 MB of negotiation, sent while another user logs in.
        Task flood = Task.Run(async () =>
        {
            for (int i = 0; i < 35; i++)
            {
                await flooder.SendAsync(burst);
            }
        });
        await using (ConsoleTestClient viewer = await LoginAsync("viewer", "view-pass"))
        {
            Assert.Contains("ABILIS_CPX:", await viewer.ReadUntilAsync("] ABILIS_CPX:"));
        }

        await flood.WaitAsync(TimeSpan.FromSeconds(30));

        // Closed at the login deadline (2 s here), not after the 5-minute idle timeout.
        Assert.True(await flooder.IsClosedAsync());
        await Eventually.WaitAsync(() => _admin.Connections == (0, 0), "both connections gone");
    }

    [Fact]
    public async Task ALoginMustBeCompleteWithinTheLoginDeadline()
    {
        _admin.LoginDeadline = TimeSpan.FromSeconds(1);

        // Silent after the prompt, and a slow typist whose attempts keep coming: both are closed.
        await using ConsoleTestClient silent = await ConsoleTestClient.ConnectAsync(_admin.LocalEndPoint!.Port);
        await silent.ReadUntilAsync("Login:");
        await using ConsoleTestClient typist = await ConsoleTestClient.ConnectAsync(_admin.LocalEndPoint!.Port);
        await typist.ReadUntilAsync("Login:");
        await typist.SendAsync("viewer\r\n");
        await typist.ReadUntilAsync("Password:");
        await silent.ReadUntilAsync("\r\nLogin timed out\r\n");
        Assert.True(await silent.IsClosedAsync());
        await typist.ReadUntilAsync("\r\nLogin timed out\r\n");
        Assert.True(await typist.IsClosedAsync());

        // A session that logged in in time has the idle timeout, not the login deadline (a longer
        // deadline here, so that a login slowed by a loaded machine still completes within it).
        _admin.LoginDeadline = TimeSpan.FromSeconds(3);
        await using ConsoleTestClient viewer = await LoginToPromptAsync("viewer", "view-pass");
        await Eventually.LetTimePassAsync(TimeSpan.FromSeconds(3.5), "past the login deadline, which no longer applies once logged in");
        Assert.Contains("ABILIS_CPX:", await CommandAsync(viewer, "d s smtp"));
    }

    [Fact]
    public async Task TheQueueIsListedWithSendersAndRecipients()
    {
        await using (SessionHarness s = await SessionHarness.StartAsync(_test.Context))
        {
            await s.OpenDataAsync("sender@client.test", "one@local.test", "two@local.test");
            Assert.StartsWith("250 2.0.0 Ok: queued as", await s.CommandAsync("hello\r\n."));
        }

        uint id = _test.Context.Queue.Snapshot().Single().Id;
        await using ConsoleTestClient viewer = await LoginToPromptAsync("viewer", "view-pass");
        string queue = await CommandAsync(viewer, "d q smtp");
        Assert.Contains("       QUEUE-OUT:1           QUEUE-DEFER:0         HOLD:0\r\n       ID       STATE  SIZE       AGE        NEXT-TRY FROM / TO\r\n", queue);
        Assert.Matches($@"\r\n       {id:X8} OUT    \d+ +0d00:00:\d\d -        <sender@client.test>\r\n {{54}}<one@local.test>\r\n {{54}}<two@local.test>\r\n", queue);
        string row = queue.Split("\r\n").Single(l => l.StartsWith($"       {id:X8}", StringComparison.Ordinal));
        Assert.Equal(54, row.IndexOf('<', StringComparison.Ordinal)); // the sender lines up with the recipients
    }

    [Fact]
    public async Task FailedLoginsBanTheAddressOnBothPorts()
    {
        var bans = new AbilisFast.Server.Access.IpBanService(_test.WorkDir, TimeProvider.System,
            new AbilisFast.Server.Configuration.IpBanOptions { MaxFail = 3, WhiteList = IpAccessList.Empty, WhiteListText = "#" });
        await using var admin = new AdminServer(_test.Context, new AbilisFast.Server.Access.UserDirectory(_test.WorkDir), _configuration, bans);
        admin.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await using var smtp = new SmtpListener(_test.Context, bans);
        smtp.Start(new IPEndPoint(IPAddress.Loopback, 0));

        await using (ConsoleTestClient client = await ConsoleTestClient.ConnectAsync(admin.LocalEndPoint!.Port))
        {
            for (int i = 0; i < 3; i++)
            {
                await client.ReadUntilAsync("Login:");
                await client.SendAsync("boss\r\n");
                await client.ReadUntilAsync("Password:");
                await client.SendAsync("guess" + i + "\r\n");
                await client.ReadUntilAsync("Login incorrect\r\n");
            }
        }

        Assert.True(bans.IsBanned(IPAddress.Loopback));
        await using (ConsoleTestClient banned = await ConsoleTestClient.ConnectAsync(admin.LocalEndPoint!.Port))
        {
            Assert.True(await banned.IsClosedAsync());
        }

        await using (SmtpTestClient mail = await SmtpTestClient.ConnectAsync(smtp.LocalEndPoint!.Port))
        {
            Assert.Null(await mail.ReadReplyAsync());
        }

        Assert.Equal(1, _test.Context.Counters.Get(SmtpCounter.BannedIp, Direction.In));

        // The first admin server (no IPBAN wired) lists and lifts it through the shared service.
        var commands = new AdminCommands(_test.Context, Environment.TickCount64, _configuration, bans);
        Assert.Contains("127.0.0.1", commands.Execute("d d ipban", UserRights.User).Text);
        Assert.Contains("ERROR: this command needs administrator", commands.Execute("c ipban 127.0.0.1", UserRights.User).Text);
        Assert.Contains("127.0.0.1 unbanned", commands.Execute("c ipban 127.0.0.1", UserRights.Admin).Text);
        Assert.False(bans.IsBanned(IPAddress.Loopback));
        Assert.Contains("ERROR: 127.0.0.1 is not banned", commands.Execute("clear ipban 127.0.0.1", UserRights.Admin).Text);
        Assert.Contains("BANNED:0", commands.Execute("d d ipban", UserRights.User).Text);

        // IPBAN parameters: shown to users, set by admins, validated.
        Assert.Contains("\r\n       MAX-FAIL:3\r\n", commands.Execute("d p ipban", UserRights.User).Text);
        Assert.Contains("ERROR: this command needs administrator", commands.Execute("s p ipban MAX-FAIL:5", UserRights.User).Text);
        Assert.Contains("MAX-FAIL:5 set, in force now", commands.Execute("s p ipban max-fail:5", UserRights.Admin).Text);
        Assert.Equal(5, bans.Options.MaxFail);
        Assert.Contains("ERROR: MAX-FAIL:0 is invalid: allowed 1..1000", commands.Execute("s p ipban MAX-FAIL:0", UserRights.Admin).Text);
        Assert.Contains("ERROR: ACTION:NONE is invalid: allowed BAN, MAIL or BOTH", commands.Execute("s p ipban ACTION:NONE", UserRights.Admin).Text);
        Assert.Equal(5, bans.Options.MaxFail);
    }
}
