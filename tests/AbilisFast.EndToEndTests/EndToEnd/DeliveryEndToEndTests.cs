namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>
/// Delivery through the real executable: swaks hands mail in, Postfix's smtp-sink (well behaved or
/// misbehaving on demand) or a second AbilisFast takes it out, the console shows the queues and
/// counters, and local mailboxes are real Maildirs under WDIR.
/// </summary>
[Collection("EndToEnd")]
public sealed partial class DeliveryEndToEndTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>The servers <see cref="StartSendingAsync"/> started: stopped and their WDIRs removed when the test ends, however it ends.</summary>
    private readonly List<ServerProcess> _servers = [];

    public void Dispose()
    {
        foreach (ServerProcess server in _servers)
        {
            server.Dispose();
            server.DeleteWorkDir();
        }
    }

    /// <summary>A sending server (mail user s, the parameters of <see cref="Sending"/>) for this test.</summary>
    private async Task<ServerProcess> StartSendingAsync(int relayPort, params string[] more)
    {
        ServerProcess server = await ServerProcess.StartWithMailUsersAsync(["s"], Sending(relayPort, more));
        _servers.Add(server);
        return server;
    }

    /// <summary>The last line every test message ends with, so a dump is known to be complete.</summary>
    private const string EndMark = "-- end --\n";

    /// <summary>Parameters of the sending server: local.test is local, everything else goes to SERVER.</summary>
    private static string[] Sending(int sinkPort, params string[] more) =>
        ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES", "RELAY-NET:127/8", "MAIL-TRY-DELAY:1",
         "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{sinkPort.ToString(CultureInfo.InvariantCulture)}", .. more];

    /// <summary>swaks sends <paramref name="data"/> (headers and body, LF or CRLF lines) and the end mark; it must succeed.</summary>
    private static async Task SwaksAsync(int port, string from, string to, string data)
    {
        var (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{port}", "--from", from, "--to", to, "--data", "-", "--helo", "client.test"], stdin: data + EndMark);
        Assert.True(exit == 0, output);
    }

    /// <summary>
    /// The OUT counters named (or the IN counter, for a name ending " in") have these values: one
    /// assertion over all of them, so a failure shows every value at once.
    /// </summary>
    private static void AssertCounters(Dictionary<string, (long In, long Out)> c, params (string Name, long Value)[] expected) =>
        Assert.Equal(expected, expected.Select(e => (e.Name, e.Name.EndsWith(" in", StringComparison.Ordinal) ? c[e.Name[..^3]].In : c[e.Name].Out)).ToArray());

    /// <summary>OUT (or IN) column of every counter of <c>d s smtp</c>.</summary>
    private static async Task<Dictionary<string, (long In, long Out)>> CountersAsync(ServerProcess server)
    {
        string output = await server.CtlAsync("d s smtp");
        var counters = new Dictionary<string, (long, long)>();
        foreach (Match m in CounterCell().Matches(output))
        {
            counters[m.Groups[1].Value] = (Cell(m.Groups[2].Value), Cell(m.Groups[3].Value));
        }

        Assert.True(counters.Count >= 14, output);
        return counters;

        static long Cell(string text) => text.Trim().Length == 0 ? 0 : long.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>QUEUE-OUT and QUEUE-DEFER from <c>d d smtp</c>.</summary>
    private static async Task<(int Out, int Defer)> QueuesAsync(ServerProcess server)
    {
        string output = await server.CtlAsync("d d smtp");
        Match m = QueueLine().Match(output);
        Assert.True(m.Success, output);
        return (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    private static async Task WaitForQueuesAsync(ServerProcess server, int queueOut, int queueDefer)
    {
        (int Out, int Defer) now = default;
        try
        {
            await Eventually.WaitAsync(async () => (now = await QueuesAsync(server)) == (queueOut, queueDefer), "the queues", Wait);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"QUEUE-OUT {now.Out}, QUEUE-DEFER {now.Defer}; waited for {queueOut}, {queueDefer}:\n{server.Stderr}");
        }
    }

    /// <summary>
    /// Waits for <paramref name="count"/> complete dumps: smtp-sink creates the file when the
    /// transaction starts and writes the text as it comes, so a dump counts once its mark line is in.
    /// </summary>
    private static Task<string[]> DumpsAsync(SmtpSinkProcess sink, int count) =>
        Eventually.WaitAsync(() => sink.Dumps() is { } d && d.Length == count && d.All(x => x.Contains(EndMark, StringComparison.Ordinal)) ? d : null, $"{count} message(s) at smtp-sink", Wait);

    private static string[] Mailbox(ServerProcess server, string name)
    {
        string dir = Path.Combine(server.WorkDir, "data", "mailboxes", name, "new");
        return Directory.Exists(dir) ? [.. Directory.GetFiles(dir).Order(StringComparer.Ordinal).Select(File.ReadAllText)] : [];
    }

    [GeneratedRegex(@"([A-Z][A-Z-]+) *\|([ 0-9]{11})\|([ 0-9]{11})\|")]
    private static partial Regex CounterCell();

    [GeneratedRegex(@"QUEUE-OUT:(\d+)\s+QUEUE-DEFER:(\d+)")]
    private static partial Regex QueueLine();

    [Fact]
    public async Task RelayedThroughSmtpSinkTheMessageArrivesIntactAndTheCountersSayIt()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        ServerProcess server = await StartSendingAsync(sink.Port);
        string body = "Subject: relayed\n\n.leading dot\n..two dots\n.\n" + new string('x', 990) + "\ncaf\u00e9 8-bit\nlast line\n";
        await SwaksAsync(server.Port, "s@client.test", "r@far.test", body);
        await SwaksAsync(server.Port, "s@client.test", "q@far.test", "Subject: second\n\nsecond\n");

        string[] dumps = await DumpsAsync(sink, 2);
        string first = Assert.Single(dumps, d => d.Contains("Subject: relayed", StringComparison.Ordinal));
        AssertText.ContainsAll(
            first,
            "X-Mail-Args: <s@client.test>",
            "X-Rcpt-Args: <r@far.test>",
            "X-Helo-Args: mx.local.test",
            "Received: from client.test ([127.0.0.1])\n\tby mx.local.test (AbilisFast) with ESMTP id ");
        Assert.Contains(body, first);

        await WaitForQueuesAsync(server, 0, 0);
        Dictionary<string, (long In, long Out)> c = await CountersAsync(server);
        Assert.Equal((2L, 2L), c["EXT-SUCC"]);
        Assert.Equal(2L, c["RELAY-SUCC"].Out);
        Assert.Equal(0L, c["EXT-FAIL"].Out);
        Assert.InRange(c["CALL-SUCC"].Out, 1, 2);
        Assert.Equal(0L, c["CALL-FAIL"].Out);
        Assert.Equal(0L, c["NOTIFY"].Out);
        Assert.Contains("Start out-bound session", await server.CtlAsync("debug res:smtp lsn:3"));
    }

    [Fact]
    public async Task A5xxFromTheRemoteGivesExactlyOneNotificationInTheSendersMailbox()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync("-f", "rcpt");
        ServerProcess server = await StartSendingAsync(sink.Port);
        await SwaksAsync(server.Port, "s@local.test", "r@far.test", "Subject: refused\nX-Mark: original\n\nbody\n");

        string dsn = Assert.Single(await Eventually.WaitAsync(() => Mailbox(server, "s") is { Length: 1 } m ? m : null, "the notification in s's mailbox", Wait));
        await WaitForQueuesAsync(server, 0, 0);
        Assert.StartsWith("Return-Path: <>\nDelivered-To: s@local.test\n", dsn); // stored with LF line ends
        Assert.Contains("Content-Type: multipart/report; report-type=delivery-status;", dsn);
        Assert.Contains("Final-Recipient: rfc822; r@far.test", dsn);
        Assert.Contains("Action: failed", dsn);
        Assert.Matches(@"Diagnostic-Code: smtp; 5\d\d ", dsn);
        Assert.Contains("X-Mark: original", dsn);
        Assert.Empty(sink.Dumps());

        await Eventually.HoldsForAsync(() => Mailbox(server, "s").Length == 1, TimeSpan.FromMilliseconds(1500), "one notification (a second would have been queued by now)");
        Assert.Single(Mailbox(server, "s"));
        Dictionary<string, (long In, long Out)> c = await CountersAsync(server);
        AssertCounters(c, ("EXT-FAIL", 1), ("EXT-SUCC", 0), ("RELAY-FAIL", 1), ("NOTIFY", 1), ("NOTIFY-SUCC", 1), ("NOTIFY-FAIL", 0), ("NOTIFY-LT", 0), ("LOCAL-SUCC", 1));
    }

    [Fact]
    public async Task ANotificationToAFailingSenderIsCountedAndDroppedWithoutALoop()
    {
        // Every RCPT is refused for good: the message fails, and so does its notification to the
        // (remote) sender, which must not produce a notification of its own.
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync("-f", "rcpt");
        ServerProcess server = await StartSendingAsync(sink.Port);
        await SwaksAsync(server.Port, "x@gone.test", "r@far.test", "Subject: doomed\n\nbody\n");

        await WaitForQueuesAsync(server, 0, 0);
        await Eventually.HoldsForAsync(async () => await QueuesAsync(server) == (0, 0), TimeSpan.FromMilliseconds(1500), "empty queues (a loop would show by now)");
        await WaitForQueuesAsync(server, 0, 0);
        Dictionary<string, (long In, long Out)> c = await CountersAsync(server);
        AssertCounters(c, ("EXT-FAIL", 1), ("NOTIFY", 1), ("NOTIFY-FAIL", 1), ("NOTIFY-SUCC", 0), ("RELAY-FAIL", 2));
        Assert.Contains("null sender", await server.CtlAsync("debug res:smtp lsn:3"));
    }

    [Fact]
    public async Task WhenQueueLifeTimeIsSpentTheSenderGetsALifetimeNotification()
    {
        int dead = ServerProcess.FreePort();
        ServerProcess server = await StartSendingAsync(dead, "QUEUE-LIFE-TIME:3");
        await SwaksAsync(server.Port, "s@local.test", "r@far.test", "Subject: too late\n\nbody\n");
        await WaitForQueuesAsync(server, 0, 1);

        string dsn = Assert.Single(await Eventually.WaitAsync(() => Mailbox(server, "s") is { Length: 1 } m ? m : null, "the lifetime notification", Wait));
        Assert.Contains("Subject: Undelivered Mail: message lifetime expired", dsn);
        Assert.Contains("Final-Recipient: rfc822; r@far.test", dsn);
        Assert.Contains("Status: 4.4.7", dsn);
        await WaitForQueuesAsync(server, 0, 0);
        Dictionary<string, (long In, long Out)> c = await CountersAsync(server);
        AssertCounters(c, ("NOTIFY-LT", 1), ("NOTIFY", 1), ("NOTIFY-SUCC", 1), ("EXT-FAIL", 1));
        Assert.True(c["CALL-FAIL"].Out >= 1);
    }

    [Fact]
    public async Task TheConsoleShowsTheOutSessionWhileItDelivers()
    {
        // smtp-sink -w 3 waits three seconds before it answers DATA: time to look at the OUT channel.
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync("-w", "3");
        ServerProcess server = await StartSendingAsync(sink.Port);
        await SwaksAsync(server.Port, "s@client.test", "r@far.test", "Subject: watched\n\nbody\n");

        string shown = await Eventually.WaitAsync(async () =>
        {
            string d = await server.CtlAsync("d de smtp");
            return OutRowInData().IsMatch(d) ? d : null;
        }, "an OUT channel in a transaction", Wait);
        Assert.Matches(@"QUEUE-OUT:0\s", shown); // taken out of QUEUE-OUT while it is delivered
        await DumpsAsync(sink, 1);
        await WaitForQueuesAsync(server, 0, 0);
        string after = await server.CtlAsync("d de smtp");
        Assert.DoesNotMatch(OutRowInData(), after);
        Assert.Matches(@"\n +0  OUT  READY +READY\r?\n", after);
    }

    // Pipelined, MAIL, RCPT and DATA go out together and smtp-sink holds all three replies back,
    // so the channel may show any of the three while it waits.
    [GeneratedRegex(@"\n +\d+ +OUT +CONNECTED +127\.0\.0\.1:\d+ +127\.0\.0\.1:\d+ +(MAIL|RCPT|DATA)\r?\n")]
    private static partial Regex OutRowInData();

    [Theory]
    [InlineData("-r", "rcpt")] // 4xx to every RCPT
    [InlineData("-Q", "data")] // 421 and hang up at DATA
    [InlineData("-q", "data")] // hang up at DATA without a word
    public async Task ATemporaryFailureDefersAndTheRetrySucceedsOnceTheRemoteRecovers(string flag, string command)
    {
        SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync(flag, command);
        int port = sink.Port;
        ServerProcess server = await StartSendingAsync(port, "STORE-MB:YES");
        try
        {
            await SwaksAsync(server.Port, "s@local.test", "r@far.test", "Subject: later\n\nbody\n");
            await WaitForQueuesAsync(server, 0, 1);
            Assert.Empty(Mailbox(server, "s"));
        }
        finally
        {
            sink.Dispose();
        }

        using SmtpSinkProcess good = await SmtpSinkProcess.StartOnAsync(port);
        string dump = Assert.Single(await DumpsAsync(good, 1));
        Assert.Contains("Subject: later\n\nbody\n", dump);
        await WaitForQueuesAsync(server, 0, 0);
        Dictionary<string, (long In, long Out)> c = await CountersAsync(server);
        AssertCounters(c, ("EXT-SUCC", 1), ("EXT-FAIL", 0), ("NOTIFY", 0));
        Assert.Empty(Mailbox(server, "s"));
    }

    [Fact]
    public async Task MessagesInQueueDeferSurviveARestartAndAreDeliveredAfterIt()
    {
        int port = ServerProcess.FreePort(); // nothing listens yet: connection refused
        string workDir = ServerProcess.NewWorkDir();
        string password;
        // The first retry is due 60 s after each failed attempt: still waiting when the server comes
        // back (with a delay of a few seconds, a slow restart found them due and in QUEUE-OUT).
        using (ServerProcess server = await ServerProcess.StartAsync(workDir, parameters: Sending(port, "MAIL-TRY-DELAY:60")))
        {
            for (int i = 0; i < 3; i++)
            {
                await SwaksAsync(server.Port, "s@local.test", $"r{i}@far.test", $"Subject: restart {i}\n\nbody {i}\n");
            }

            await WaitForQueuesAsync(server, 0, 3);
            // One refused connection at least; after it the host is in trouble for MAIL-TRY-DELAY,
            // so the messages that follow within that time are deferred without a connection of their own.
            Assert.True((await CountersAsync(server))["CALL-FAIL"].Out >= 1);
            password = server.AdminPassword;
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        using SmtpSinkProcess sink = await SmtpSinkProcess.StartOnAsync(port);
        using (ServerProcess again = await ServerProcess.StartAsync(workDir, parameters: Sending(port, "MAIL-TRY-DELAY:2")))
        {
            again.KnownAdminPassword = password;
            Assert.Contains("3 message(s) recovered (0 in QUEUE-OUT, 3 in QUEUE-DEFER)", again.Stderr);
            Assert.Contains("3 message(s) moved to QUEUE-OUT", await again.CtlAsync("retry q smtp ALL"));
            string[] dumps = await DumpsAsync(sink, 3);
            for (int i = 0; i < 3; i++)
            {
                Assert.Single(dumps, d => d.Contains($"Subject: restart {i}\n\nbody {i}\n", StringComparison.Ordinal));
            }

            await WaitForQueuesAsync(again, 0, 0);
            Assert.Empty(Mailbox(again, "s"));
        }

        Directory.Delete(workDir, recursive: true);
    }

    [Fact]
    public async Task TheConsoleListsHoldsReleasesAndDeletesQueuedMail()
    {
        int port = ServerProcess.FreePort(); // nothing listens yet: connection refused
        string workDir = ServerProcess.NewWorkDir();
        string password;
        string[] parameters = Sending(port, "MAIL-TRY-DELAY:3600");
        using (ServerProcess server = await ServerProcess.StartAsync(workDir, parameters: parameters))
        {
            await SwaksAsync(server.Port, "s@local.test", "keep@far.test", "Subject: keep\n\nbody\n");
            await SwaksAsync(server.Port, "s@local.test", "drop@far.test", "Subject: drop\n\nbody\n");
            await WaitForQueuesAsync(server, 0, 2);

            string queue = await server.CtlAsync("d q smtp");
            Match keep = QueueRow("keep").Match(queue);
            Match drop = QueueRow("drop").Match(queue);
            Assert.True(keep.Success && drop.Success, queue);
            Assert.Contains("QUEUE-DEFER:2         HOLD:0", queue);

            Assert.Contains("1 message(s) put on hold", await server.CtlAsync($"hold q smtp {keep.Groups[1].Value}"));
            Assert.Contains("1 message(s) deleted", await server.CtlAsync($"del q smtp {drop.Groups[1].Value}"));
            var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["ctl", "--port", server.AdminPort.ToString(CultureInfo.InvariantCulture), "rel q smtp 0000BEEF"], stdin: server.AdminPassword + "\n");
            Assert.Equal(1, exit);
            Assert.Contains("ERROR: no message 0000BEEF on hold", output);
            queue = await server.CtlAsync("d q smtp");
            Assert.Matches($@"{keep.Groups[1].Value} HOLD ", queue);
            Assert.DoesNotContain("drop@far.test", queue);
            password = server.AdminPassword;
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        using SmtpSinkProcess sink = await SmtpSinkProcess.StartOnAsync(port);
        using (ServerProcess again = await ServerProcess.StartAsync(workDir, parameters: parameters))
        {
            again.KnownAdminPassword = password;
            Assert.Contains("QUEUE-OUT:0           QUEUE-DEFER:0         HOLD:1", await again.CtlAsync("d q smtp"));
            await Eventually.HoldsForAsync(() => sink.Dumps().Length == 0, TimeSpan.FromMilliseconds(500), "held: nothing at the sink");
            Assert.Empty(sink.Dumps()); // held: not delivered after the restart either
            Assert.Contains("1 message(s) released to QUEUE-OUT", await again.CtlAsync("rel q smtp all"));
            string dump = Assert.Single(await DumpsAsync(sink, 1));
            Assert.Contains("X-Rcpt-Args: <keep@far.test>", dump);
            await WaitForQueuesAsync(again, 0, 0);
            Assert.Contains("HOLD:0", await again.CtlAsync("d q smtp"));
        }

        Directory.Delete(workDir, recursive: true);
    }

    /// <summary>A DEFER row of d q smtp for &lt;NAME@far.test&gt; with its next try and last error; group 1 is the id.</summary>
    private static Regex QueueRow(string name) =>
        new($@"       ([0-9A-F]{{8}}) DEFER  \d+ +0d00:00:\d\d \d\d:\d\d:\d\d <s@local.test>\r?\n {{54}}<{name}@far.test> 4\.4\.1 Connection refused");

    [Fact]
    public async Task SendmailAndTheConsoleSubmitInternalMailThatIsDeliveredAndCountedInt()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        ServerProcess server = await StartSendingAsync(sink.Port);
        string wdir = Path.Combine(server.WorkDir, "data");
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["sendmail", "--wdir", wdir, "-f", "cron@local.test", "ops@local.test", "far@remote.test"],
            stdin: "Subject: nightly report\n\nall good\n" + EndMark);
        Assert.True(exit == 0, output);

        string reply = await server.CtlAsync("debug res:smtp lsn:4 cmd:admin@local.test:ops@local.test:Console note:hello from the console");
        Assert.Matches("Internal mail queued as [0-9A-F]{8}", reply);

        string[] box = await Eventually.WaitAsync(() => Mailbox(server, "ops") is { Length: 2 } m ? m : null, "two messages in ops's mailbox", Wait);
        Assert.Single(box, m => m.Contains("\nSubject: nightly report\nFrom: cron@local.test\nDate: ", StringComparison.Ordinal) && m.Contains("\n\nall good\n", StringComparison.Ordinal) && m.StartsWith("Return-Path: <cron@local.test>\n", StringComparison.Ordinal));
        Assert.Single(box, m => m.Contains("Subject: Console note", StringComparison.Ordinal) && m.Contains("hello from the console", StringComparison.Ordinal));
        string dump = Assert.Single(await DumpsAsync(sink, 1));
        Assert.Contains("X-Rcpt-Args: <far@remote.test>", dump);
        Assert.Contains("\nSubject: nightly report\nFrom: cron@local.test\nDate: ", dump);
        Assert.Contains("\n\nall good\n", dump);

        await WaitForQueuesAsync(server, 0, 0);
        Dictionary<string, (long In, long Out)> c = await CountersAsync(server);
        Assert.Equal((2L, 2L), c["INT-SUCC"]);
        Assert.Equal((0L, 0L), c["INT-FAIL"]);
        Assert.Equal((0L, 0L), c["EXT-SUCC"]);
        Assert.Equal(2L, c["LOCAL-SUCC"].Out);
        Assert.Equal(1L, c["RELAY-SUCC"].Out);
    }

    [Fact]
    public async Task ByMxFromRealDnsToASecondAbilisFastAndANullMxBounces()
    {
        // B: the destination, a second AbilisFast with mailboxes for b.test. LOCAL-RCPT:ANY: müller
        // can be no user (user names are ASCII), and ANY gives every local part a folder of its own.
        using ServerProcess b = await ServerProcess.StartAsync(parameters: ["LOCAL-DOMAIN:b.test", "HELOHOST:mx.b.test", "STORE-MB:YES", "LOCAL-RCPT:ANY"]);
        using Dnsmasq dns = await Dnsmasq.StartAsync(
            [
                Dnsmasq.MxHost("b.test", "mx.b.test", 10),
                Dnsmasq.MxHost("b.test", "backup.b.test", 20),
                Dnsmasq.HostRecord("mx.b.test", "127.0.0.1"),
                Dnsmasq.HostRecord("backup.b.test", "127.0.0.1"),
                Dnsmasq.MxHost("nullmx.test", ".", 0),
            ],
            "test");

        // A: no SERVER, so remote mail goes by MX; DNS and MX-PORT point at the loopback lab.
        using ServerProcess a = await ServerProcess.StartWithMailUsersAsync(["s"],
        [
            "LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES", "RELAY-NET:127/8", "MAIL-TRY-DELAY:1",
            $"DNS:{dns.EndPoint}", $"MX-PORT:{b.Port.ToString(CultureInfo.InvariantCulture)}",
        ]);
        string body = "Subject: by MX\n\n.dot\n" + new string('y', 998) + "\nna\u00efve 8-bit\n";
        await SwaksAsync(a.Port, "s@local.test", "user@b.test", body);
        await SwaksAsync(a.Port, "s@local.test", "nobody@nullmx.test", "Subject: to a null MX\n\nx\n");

        // UTF-8 addresses (RFC 6531) from python's smtplib, relayed by MX with SMTPUTF8.
        const string script = """
            import smtplib, sys
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)
            s.ehlo('client.test')
            msg = 'Subject: gr\u00fc\u00dfe\r\nFrom: J\u00f6rg <j\u00f6rg@local.test>\r\n\r\n\u65e5\u672c\u8a9e\r\n'.encode('utf-8')
            s.sendmail('j\u00f6rg@local.test', ['m\u00fcller@b.test'], msg, mail_options=['SMTPUTF8', 'BODY=8BITMIME'])
            s.quit()
            """;
        var (exit, output) = await Tool.RunAsync("python3", ["-c", script, a.Port.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(exit == 0, output);

        string arrived = Assert.Single(await Eventually.WaitAsync(() => Mailbox(b, "user") is { Length: 1 } m ? m : null, "the message in B's mailbox", Wait));
        string utf8 = Assert.Single(await Eventually.WaitAsync(() => Mailbox(b, "m\u00fcller") is { Length: 1 } m ? m : null, "the UTF-8 message in B's mailbox", Wait));
        Assert.StartsWith("Return-Path: <j\u00f6rg@local.test>\nDelivered-To: m\u00fcller@b.test\n", utf8);
        Assert.EndsWith("Subject: gr\u00fc\u00dfe\nFrom: J\u00f6rg <j\u00f6rg@local.test>\n\n\u65e5\u672c\u8a9e\n", utf8);
        Assert.StartsWith("Return-Path: <s@local.test>\nDelivered-To: user@b.test\nReceived: from mx.local.test ([127.0.0.1])", arrived);
        Assert.Contains(body, arrived); // swaks adds a blank line after it

        string dsn = Assert.Single(await Eventually.WaitAsync(() => Mailbox(a, "s") is { Length: 1 } m ? m : null, "the null-MX notification", Wait));
        Assert.Contains("Final-Recipient: rfc822; nobody@nullmx.test", dsn);
        Assert.Contains("Status: 5.1.10", dsn);
        await WaitForQueuesAsync(a, 0, 0);
        Assert.Contains("DNS solving MX: b.test", await a.CtlAsync("debug res:smtp lsn:3"));
        Dictionary<string, (long In, long Out)> c = await CountersAsync(a);
        AssertCounters(c, ("EXT-SUCC", 2), ("EXT-FAIL", 1), ("NOTIFY-SUCC", 1));
        Assert.InRange(c["CALL-SUCC"].Out, 1, 2);
        Assert.Equal(2L, (await CountersAsync(b))["EXT-SUCC"].In);
        a.DeleteWorkDir();
        b.DeleteWorkDir();
    }

    [Fact]
    public async Task SendmailSaysWhyWhenItCannotHandTheMessageOver()
    {
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["sendmail", "--wdir", "/proc/abilisfast-no-such-dir", "u@local.test"], stdin: "Subject: x\n\nx\n");
        Assert.Equal(75, exit); // EX_TEMPFAIL
        Assert.Contains("abilisfast sendmail:", output);

        (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["sendmail", "--wdir", Path.GetTempPath()], stdin: "x\n");
        Assert.Equal(64, exit); // EX_USAGE
        Assert.Contains("no recipients", output);
    }
}
