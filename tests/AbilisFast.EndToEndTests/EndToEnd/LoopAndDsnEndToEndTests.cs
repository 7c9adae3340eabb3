namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>
/// Mail loops and DSN with the real executable: two servers relaying a domain to each other, one
/// relaying to itself, and NOTIFY toward Postfix's smtp-sink with and without DSN (-N). Mail goes
/// in with swaks or Python's smtplib (which can give NOTIFY, ORCPT, RET and ENVID); the sender's
/// Maildir is read with Python's mailbox.Maildir and each report taken apart with Python's email
/// package (<see cref="PythonReports"/>).
/// </summary>
[Collection("EndToEnd")]
public sealed partial class LoopAndDsnEndToEndTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static string P(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>A new WDIR where s, the sender, is a mail user: local domains take only real mailboxes (LOCAL-RCPT:KNOWN).</summary>
    private static string WithSender()
    {
        string workDir = ServerProcess.NewWorkDir();
        ServerProcess.AddMailUsers(workDir, "s");
        return workDir;
    }

    private static string SenderMaildir(ServerProcess server) => Path.Combine(server.WorkDir, "data", "mailboxes", "s");

    private static int MailboxCount(ServerProcess server, string name)
    {
        string dir = Path.Combine(server.WorkDir, "data", "mailboxes", name, "new");
        return Directory.Exists(dir) ? Directory.GetFiles(dir).Length : 0;
    }

    private static async Task SwaksAsync(int port, string from, string to, string data)
    {
        var (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{P(port)}", "--from", from, "--to", to, "--data", "-", "--helo", "client.test"], stdin: data);
        Assert.True(exit == 0, output);
    }

    /// <summary>Python's smtplib sends one message with DSN parameters: MAIL options, then per recipient "address|options".</summary>
    private static async Task SmtplibAsync(int port, string mailOptions, params string[] recipients)
    {
        const string script = """
            import smtplib, sys
            port, mail_options, rcpts = int(sys.argv[1]), sys.argv[2].split(), sys.argv[3:]
            s = smtplib.SMTP('127.0.0.1', port, timeout=20)
            s.ehlo('client.test')
            assert s.has_extn('dsn'), s.esmtp_features
            code, text = s.mail('s@local.test', mail_options)
            assert code == 250, (code, text)
            for r in rcpts:
                address, _, options = r.partition('|')
                code, text = s.rcpt(address, options.split())
                assert code == 250, (r, code, text)
            code, text = s.data(b'Subject: dsn end to end\r\nX-Mark: original\r\n\r\nbody\r\n')
            assert code == 250, (code, text)
            s.quit()
            print('SENT')
            """;
        var (exit, output) = await Tool.RunAsync("python3", ["-c", script, P(port), mailOptions, .. recipients]);
        Assert.True(exit == 0 && output.Contains("SENT", StringComparison.Ordinal), output);
    }

    /// <summary>d m smtp's sample for <paramref name="name"/>, e.g. <c>abilisfast_smtp_loops_total{detected="hop-limit"}</c>.</summary>
    private static async Task<long> MetricAsync(ServerProcess server, string name)
    {
        string metrics = await server.CtlAsync("d m smtp");
        Match m = Regex.Match(metrics, "^" + Regex.Escape(name) + " (\\d+)$", RegexOptions.Multiline);
        Assert.True(m.Success, metrics);
        return long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static async Task<long> OutCounterAsync(ServerProcess server, string label)
    {
        string stats = await server.CtlAsync("d s smtp");
        Match m = Regex.Match(stats, Regex.Escape(label) + " *\\|([ 0-9]{11})\\|([ 0-9]{11})\\|");
        Assert.True(m.Success, stats);
        string cell = m.Groups[2].Value.Trim();
        return cell.Length == 0 ? 0 : long.Parse(cell, CultureInfo.InvariantCulture);
    }

    private static async Task<int> DeferralsAsync(ServerProcess server) =>
        Regex.Matches(await server.CtlAsync("debug res:smtp lsn:3"), "Deferred message").Count;

    private static async Task WaitForEmptyQueueAsync(ServerProcess server)
    {
        await Eventually.WaitAsync(async () =>
        {
            string output = await server.CtlAsync("d d smtp");
            return Regex.IsMatch(output, "QUEUE-OUT:0\\s+QUEUE-DEFER:0\\b") ? output : null;
        }, "an empty queue", Wait);
    }

    [Fact]
    public async Task TwoServersRelayingADomainToEachOtherStopWithinSecondsAndTheSenderGetsOneNotification()
    {
        // A holds the sender's mailbox (a.test) and relays everything else to B; B relays everything to A.
        int portA = ServerProcess.FreePort(), portB = ServerProcess.FreePort();
        using ServerProcess b = await ServerProcess.StartAsync(null, portB, "HELOHOST:b.test", "RELAY-NET:127/8", "MAX-IP-SES:20", "MAIL-TRY-DELAY:1", "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{P(portA)}");
        using ServerProcess a = await ServerProcess.StartAsync(WithSender(), portA, "LOCAL-DOMAIN:a.test", "HELOHOST:a.test", "STORE-MB:YES", "RELAY-NET:127/8",
            "MAX-IP-SES:20", "MAIL-TRY-DELAY:1", "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{P(portB)}");
        await SwaksAsync(portA, "s@a.test", "u@loop.test", "Subject: round and round\n\nbody\n");

        // The loop must end by itself: the notification arrives within the deadline (it takes well
        // under a second or two; tools/loop-time.sh measures it), and both queues empty.
        await Eventually.WaitAsync(() => MailboxCount(a, "s") >= 1, "the notification in s's mailbox", Wait);
        await WaitForEmptyQueueAsync(a);
        await WaitForEmptyQueueAsync(b);
        await Eventually.HoldsForAsync(() => MailboxCount(a, "s") == 1, TimeSpan.FromMilliseconds(1500), "one notification (a second, or a loop of them, would show by now)");
        await WaitForEmptyQueueAsync(a);
        await WaitForEmptyQueueAsync(b);

        PythonReports.Report report = Assert.Single(await PythonReports.ReadAsync(SenderMaildir(a)));
        Assert.Empty(report.Defects);
        Assert.Equal("multipart/report", report.ContentType);
        Assert.Equal("delivery-status", report.ReportType);
        Assert.Equal(["text/plain", "message/delivery-status", "text/rfc822-headers"], report.Parts);
        Assert.Equal("<>", report.Header("Return-Path"));
        Assert.Equal("auto-replied", report.Header("Auto-Submitted"));
        IReadOnlyDictionary<string, string> rcpt = Assert.Single(report.Recipients);
        Assert.Equal("rfc822; u@loop.test", rcpt["Final-Recipient"]);
        Assert.Equal("failed", rcpt["Action"]);
        Assert.Equal("5.4.6", rcpt["Status"]);
        Assert.StartsWith("smtp; 554 5.4.6 Error: too many hops (100 Received: header fields, HOP-LIMIT 100)", rcpt["Diagnostic-Code"]);
        // The returned header section shows the loop: a hundred Received: fields, ours included.
        Assert.Equal(100, Regex.Matches(report.Returned, "^Received: ", RegexOptions.Multiline).Count);

        // Exactly one server refused the message over HOP-LIMIT, and exactly one notification was made.
        Assert.Equal(1, await MetricAsync(a, "abilisfast_smtp_loops_total{detected=\"hop-limit\"}") + await MetricAsync(b, "abilisfast_smtp_loops_total{detected=\"hop-limit\"}"));
        Assert.Equal(1, await OutCounterAsync(a, "NOTIFY") + await OutCounterAsync(b, "NOTIFY"));
        Assert.Equal(0, await OutCounterAsync(a, "NOTIFY-FAIL") + await OutCounterAsync(b, "NOTIFY-FAIL"));
        a.DeleteWorkDir();
        b.DeleteWorkDir();
    }

    [Fact]
    public async Task AServerWhoseRelayServerIsItselfFailsTheMailWithoutConnecting()
    {
        int port = ServerProcess.FreePort();
        using ServerProcess a = await ServerProcess.StartAsync(WithSender(), port, "LOCAL-DOMAIN:a.test", "HELOHOST:a.test", "STORE-MB:YES", "RELAY-NET:127/8",
            "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{P(port)}");
        await SwaksAsync(port, "s@a.test", "u@loop.test", "Subject: to myself\n\nbody\n");

        await Eventually.WaitAsync(() => MailboxCount(a, "s") >= 1, "the notification in s's mailbox", Wait);
        await WaitForEmptyQueueAsync(a);
        await Eventually.HoldsForAsync(() => MailboxCount(a, "s") == 1, TimeSpan.FromSeconds(1), "one notification");
        PythonReports.Report report = Assert.Single(await PythonReports.ReadAsync(SenderMaildir(a)));
        Assert.Empty(report.Defects);
        Assert.Equal("delivery-status", report.ReportType);
        IReadOnlyDictionary<string, string> rcpt = Assert.Single(report.Recipients);
        Assert.Equal(("rfc822; u@loop.test", "failed", "5.4.6"), (rcpt["Final-Recipient"], rcpt["Action"], rcpt["Status"]));
        Assert.Contains("mail for loop.test loops back to myself", Regex.Replace(report.Text, "\\s+", " "));
        Assert.Equal(1, await MetricAsync(a, "abilisfast_smtp_loops_total{detected=\"loops-back\"}"));
        Assert.Contains("loops back to myself", await a.CtlAsync("debug res:smtp lsn:3"));
        Assert.Equal(0, await OutCounterAsync(a, "CALL-SUCC")); // no connection went out
        Assert.Equal(0, await OutCounterAsync(a, "CALL-FAIL"));
        a.DeleteWorkDir();
    }

    [Fact]
    public async Task AnMxThatResolvesToThisServerIsALoopToo()
    {
        int port = ServerProcess.FreePort();
        using Dnsmasq dns = await Dnsmasq.StartAsync([Dnsmasq.MxHost("loop.test", "mx.loop.test", 10), Dnsmasq.HostRecord("mx.loop.test", "127.0.0.1")], "test");
        using ServerProcess a = await ServerProcess.StartAsync(WithSender(), port, "LOCAL-DOMAIN:a.test", "HELOHOST:a.test", "STORE-MB:YES", "RELAY-NET:127/8",
            $"DNS:{dns.EndPoint}", $"MX-PORT:{P(port)}");
        await SwaksAsync(port, "s@a.test", "u@loop.test", "Subject: by MX to myself\n\nbody\n");

        await Eventually.WaitAsync(() => MailboxCount(a, "s") >= 1, "the notification in s's mailbox", Wait);
        await WaitForEmptyQueueAsync(a);
        PythonReports.Report report = Assert.Single(await PythonReports.ReadAsync(SenderMaildir(a)));
        Assert.Equal("5.4.6", Assert.Single(report.Recipients)["Status"]);
        Assert.Contains($"(MX host mx.loop.test [127.0.0.1]:{P(port)} is this server)", Regex.Replace(report.Text, "\\s+", " "));
        a.DeleteWorkDir();
    }

    /// <summary>The sending server: local.test has mailboxes (the sender s), everything else goes to SERVER.</summary>
    private static string[] Sending(int serverPort, params string[] more) =>
        ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES", "RELAY-NET:127/8", "MAIL-TRY-DELAY:1",
         "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{P(serverPort)}", .. more];

    [Fact]
    public async Task NotifySuccessToANextHopWithoutDsnGivesARelayedReportAndPassesNothingOn()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync("-N"); // -N: no DSN in its EHLO reply
        using ServerProcess a = await ServerProcess.StartAsync(WithSender(), null, Sending(sink.Port));
        await SmtplibAsync(a.Port, "RET=FULL ENVID=trip+2B1", "r@far.test|NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;R@far.test", "q@far.test|NOTIFY=FAILURE");

        string dump = Assert.Single(await Eventually.WaitAsync(() => sink.Dumps() is { Length: 1 } d && d[0].Contains("body\n", StringComparison.Ordinal) ? d : null, "the message at smtp-sink", Wait));
        Assert.Contains("X-Rcpt-Args: <r@far.test>\n", dump);
        Assert.Contains("X-Rcpt-Args: <q@far.test>\n", dump);
        Assert.DoesNotContain("NOTIFY", dump);
        Assert.DoesNotContain("ENVID", dump);
        Assert.DoesNotContain("RET=", dump);

        await Eventually.WaitAsync(() => MailboxCount(a, "s") >= 1, "the relayed report", Wait);
        await WaitForEmptyQueueAsync(a);
        PythonReports.Report report = Assert.Single(await PythonReports.ReadAsync(SenderMaildir(a)));
        Assert.Empty(report.Defects);
        Assert.Equal(("multipart/report", "delivery-status"), (report.ContentType, report.ReportType));
        Assert.Equal(["text/plain", "message/delivery-status", "text/rfc822-headers"], report.Parts);
        Assert.Equal("Successful Mail Delivery Report", report.Header("Subject"));
        Assert.Equal("auto-replied", report.Header("Auto-Submitted"));
        Assert.Equal("<>", report.Header("Return-Path"));
        Assert.Equal("dns; mx.local.test", report.PerMessage["Reporting-MTA"]);
        Assert.Equal("trip+2B1", report.PerMessage["Original-Envelope-Id"]);
        Assert.True(DateTimeOffset.TryParse(report.PerMessage["Arrival-Date"], CultureInfo.InvariantCulture, out _), report.PerMessage["Arrival-Date"]);
        IReadOnlyDictionary<string, string> rcpt = Assert.Single(report.Recipients);
        Assert.Equal("rfc822; R@far.test", rcpt["Original-Recipient"]);
        Assert.Equal("rfc822; r@far.test", rcpt["Final-Recipient"]);
        Assert.Equal("relayed", rcpt["Action"]);
        Assert.Equal("2.0.0", rcpt["Status"]);
        Assert.Equal("dns; 127.0.0.1", rcpt["Remote-MTA"]);
        Assert.StartsWith("smtp; 250 ", rcpt["Diagnostic-Code"]);
        Assert.Contains("X-Mark: original", report.Returned); // headers only, even with RET=FULL
        Assert.DoesNotContain("body", report.Returned);

        Assert.Equal(1, await MetricAsync(a, "abilisfast_smtp_dsn_reports_total{report=\"success\"}"));
        Assert.Equal(1, await MetricAsync(a, "abilisfast_smtp_dsn_recipients_total{action=\"relayed\"}"));
        Assert.Equal(1, await MetricAsync(a, "abilisfast_smtp_dsn_reports_done_total{result=\"delivered\"}"));
        Assert.Equal(0, await OutCounterAsync(a, "NOTIFY"));
        Assert.Equal(0, await OutCounterAsync(a, "NOTIFY-SUCC"));
        a.DeleteWorkDir();
    }

    [Fact]
    public async Task ANextHopWithDsnGetsNotifyOrcptRetAndEnvidAndNoReportComesFromHere()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        using ServerProcess a = await ServerProcess.StartAsync(WithSender(), null, Sending(sink.Port));
        await SmtplibAsync(a.Port, "RET=HDRS ENVID=trip2", "r@far.test|NOTIFY=SUCCESS,DELAY ORCPT=rfc822;R@far.test", "q@far.test|NOTIFY=NEVER", "p@far.test");

        string dump = Assert.Single(await Eventually.WaitAsync(() => sink.Dumps() is { Length: 1 } d && d[0].Contains("body\n", StringComparison.Ordinal) ? d : null, "the message at smtp-sink", Wait));
        Assert.Contains("X-Mail-Args: <s@local.test> RET=HDRS ENVID=trip2\n", dump); // smtp-sink offers no SIZE
        Assert.Contains("X-Rcpt-Args: <r@far.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;R@far.test\n", dump);
        Assert.Contains("X-Rcpt-Args: <q@far.test> NOTIFY=NEVER\n", dump);
        Assert.Contains("X-Rcpt-Args: <p@far.test>\n", dump);

        await WaitForEmptyQueueAsync(a);
        await Eventually.HoldsForAsync(() => MailboxCount(a, "s") == 0, TimeSpan.FromMilliseconds(1500), "no report (one would have been delivered by now)");
        Assert.Equal(0, MailboxCount(a, "s"));
        Assert.Equal(0, await MetricAsync(a, "abilisfast_smtp_dsn_reports_total{report=\"success\"}"));
        a.DeleteWorkDir();
    }

    [Fact]
    public async Task NotifyDelayGivesOneDelayReportAndARestartedServerDoesNotSendItAgain()
    {
        int dead = ServerProcess.FreePort();
        using ServerProcess a = await ServerProcess.StartAsync(WithSender(), null, Sending(dead, "DELAY-NOTIF-TIME:1", "MAIL-TRY-DELAY:1"));
        await SmtplibAsync(a.Port, "ENVID=slow1", "r@far.test|NOTIFY=DELAY,FAILURE ORCPT=rfc822;r@far.test", "q@far.test");

        await Eventually.WaitAsync(() => MailboxCount(a, "s") >= 1, "the delay report", Wait);
        PythonReports.Report report = Assert.Single(await PythonReports.ReadAsync(SenderMaildir(a)));
        Assert.Empty(report.Defects);
        Assert.Equal(("multipart/report", "delivery-status"), (report.ContentType, report.ReportType));
        Assert.Equal("Delayed Mail (still being retried)", report.Header("Subject"));
        Assert.Equal("auto-replied", report.Header("Auto-Submitted"));
        Assert.Equal("slow1", report.PerMessage["Original-Envelope-Id"]);
        IReadOnlyDictionary<string, string> rcpt = Assert.Single(report.Recipients);
        Assert.Equal(("rfc822; r@far.test", "delayed"), (rcpt["Final-Recipient"], rcpt["Action"]));
        Assert.StartsWith("4.", rcpt["Status"]);
        Assert.True(rcpt.ContainsKey("Will-Retry-Until"));
        Assert.Equal(1, await MetricAsync(a, "abilisfast_smtp_dsn_reports_total{report=\"delay\"}"));

        // Stop, start again on the same WDIR, and make it try at once: the retry record says the report went.
        string password = a.AdminPassword;
        Assert.Equal(0, await a.TerminateAsync(TimeSpan.FromSeconds(30)));
        using ServerProcess again = await ServerProcess.StartAsync(a.WorkDir, null, Sending(dead, "DELAY-NOTIF-TIME:1", "MAIL-TRY-DELAY:1"));
        again.KnownAdminPassword = password;
        Assert.Contains("1 message(s) recovered", again.Stderr);
        await again.CtlAsync("retry q smtp all");
        await Eventually.WaitAsync(async () => await DeferralsAsync(again) >= 1 ? string.Empty : null, "an attempt after the restart", Wait);
        await again.CtlAsync("retry q smtp all");
        await Eventually.WaitAsync(async () => await DeferralsAsync(again) >= 2 ? string.Empty : null, "a second attempt", Wait);
        Assert.Equal(1, MailboxCount(again, "s"));
        Assert.Equal(0, await MetricAsync(again, "abilisfast_smtp_dsn_reports_total{report=\"delay\"}"));
        again.DeleteWorkDir();
    }
}
