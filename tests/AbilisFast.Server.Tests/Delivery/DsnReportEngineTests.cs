namespace AbilisFast.Server.Tests.Delivery;

/// <summary>
/// RFC 3461 in the delivery engine, in process over loopback sockets: what each NOTIFY value gives
/// (success reports after a local delivery or a hand-off to a next hop without DSN, one delay
/// report, nothing for NEVER), what goes on to a next hop with DSN, and a next hop that is this
/// server itself. The sender s@a.test has a local mailbox on A, where the reports land.
/// </summary>
public sealed class DsnReportEngineTests : IAsyncLifetime
{
    private TwoServers _rig = null!;

    public async Task InitializeAsync() => _rig = await TwoServers.StartAsync();

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    private void StartA(params string[] parameters) => _rig.StartA(parameters);

    private DeliveryEngine NewEngine(SmtpContext context) => _rig.NewEngine(context);

    private Task SendToAAsync(string mail, params string[] rcpts) =>
        _rig.SendToAAsync("<s@a.test>" + mail, rcpts, "Subject: dsn test\r\nX-Mark: original\r\n\r\nbody\r\n");

    private Task WaitUntilAsync(Func<bool> condition, string what) => _rig.WaitUntilAsync(condition, what);

    private string[] SenderMailbox => _rig.A.Mailbox("s");

    /// <summary>Waits (up to 20 s) until the sender's mailbox holds one message, <paramref name="what"/>, and returns it.</summary>
    private async Task<string> OneReportAsync(string what) =>
        Assert.Single(await Eventually.WaitAsync(() => SenderMailbox is { Length: 1 } m ? m : null, what, TimeSpan.FromSeconds(20)));

    /// <summary>The delivery-status part's field lines, unfolded enough for these short fields (the Maildir stores LF line ends).</summary>
    private static string StatusPart(string report)
    {
        int start = report.IndexOf("Content-Type: message/delivery-status\n", StringComparison.Ordinal);
        Assert.True(start > 0, report);
        int end = report.IndexOf("\n--=_AbilisFast_", start, StringComparison.Ordinal);
        return report[start..end];
    }

    [Fact]
    public async Task NotifySuccessOnALocalDeliveryGivesADeliveredReport()
    {
        StartA();
        await SendToAAsync(" ENVID=env+2Bone RET=FULL", "<u@a.test> NOTIFY=SUCCESS ORCPT=rfc822;U+2Bx@a.test", "<v@a.test>");
        string report = await OneReportAsync("the success report");
        Assert.Single(_rig.A.Mailbox("u"));
        Assert.Single(_rig.A.Mailbox("v"));

        Assert.StartsWith("Return-Path: <>\n", report);
        Assert.Contains("\nSubject: Successful Mail Delivery Report\n", report);
        Assert.Contains("\nAuto-Submitted: auto-replied\n", report);
        Assert.Contains("Content-Type: multipart/report; report-type=delivery-status;", report);
        string status = StatusPart(report);
        AssertText.ContainsAll(
            status,
            "Reporting-MTA: dns; mx.test\n",
            "Original-Envelope-Id: env+2Bone\n",
            "Arrival-Date: ",
            "Original-Recipient: rfc822; U+2Bx@a.test\nFinal-Recipient: rfc822; u@a.test\nAction: delivered\nStatus: 2.0.0\n");
        Assert.DoesNotContain("v@a.test", status); // no NOTIFY: failure only
        // RET=FULL concerns failures: a success report returns the header section only.
        Assert.Contains("Content-Type: text/rfc822-headers", report);
        Assert.Contains("X-Mark: original", report);
        Assert.DoesNotContain("\nbody\n", report);

        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0 && _rig.A.Context.Reports.Sent.Value == 1, "the report to leave the queue");
        Assert.Equal((1, 1, 0), (_rig.A.Context.Reports.Success.Value, _rig.A.Context.Reports.Delivered.Value, _rig.A.Context.Reports.Relayed.Value));
        Assert.Equal(0, _rig.A.Context.Counters.Get(SmtpCounter.Notify, Direction.Out));
        Assert.Equal(0, _rig.A.Context.Counters.Get(SmtpCounter.NotifySucc, Direction.Out));
    }

    /// <summary>
    /// CR LF hidden in ENVID and ORCPT as xtext (+0D+0A) stays xtext in the report: no field of the
    /// client's making (Bcc:) appears in the report's header or its delivery-status part.
    /// </summary>
    [Fact]
    public async Task CrLfInEnvidAndOrcptInjectsNoFieldIntoTheReport()
    {
        StartA();
        await SendToAAsync(" ENVID=x+0D+0ABcc:+20evil@x.test", "<u@a.test> NOTIFY=SUCCESS ORCPT=rfc822;u@a.test+0D+0ABcc:evil@x.test+0D+0A+0D+0Abody");
        string report = await OneReportAsync("the success report");
        Assert.DoesNotContain("\nBcc:", report);
        Assert.DoesNotContain("\rBcc:", report);
        string status = StatusPart(report);
        Assert.Contains("Original-Envelope-Id: x+0D+0ABcc:+20evil@x.test\n", status);
        Assert.Contains("Original-Recipient: rfc822; u@a.test+0D+0ABcc:evil@x.test+0D+0A+0D+0Abody\n", status);
    }

    [Fact]
    public async Task ANextHopWithDsnGetsNotifyOrcptEnvidAndRetAndThisServerSendsNoReport()
    {
        StartA();
        await SendToAAsync(" RET=FULL ENVID=env2", "<r@b.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;r@b.test", "<q@b.test> NOTIFY=NEVER", "<p@b.test>");
        await WaitUntilAsync(() => _rig.B.Context.Queue.OutCount == 1, "the message at B");
        Envelope arrived = Assert.Single(_rig.B.Stored()).Envelope;
        Assert.Equal("env2", arrived.EnvelopeId);
        Assert.Equal(DsnReturn.Full, arrived.Return);
        Assert.Equal(
            [("r@b.test", DsnNotify.Success | DsnNotify.Delay, (string?)"rfc822;r@b.test"), ("q@b.test", DsnNotify.Never, null), ("p@b.test", DsnNotify.None, null)],
            arrived.Recipients.Select(r => (r.Address, r.Notify, r.OriginalRecipient)));

        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0, "A to let go");
        Assert.Empty(SenderMailbox);
        Assert.Equal(0, _rig.A.Context.Reports.Success.Value);
    }

    [Fact]
    public async Task ANextHopWithoutDsnGetsNoDsnParametersAndTheSenderARelayedReport()
    {
        await using var relay = new ScriptedSmtpPeer(async p =>
        {
            await p.SendAsync("220 plain.test ESMTP\r\n");
            await p.ExpectAsync("EHLO mx.test", "250-plain.test\r\n250 8BITMIME\r\n");
            await p.ExpectTransactionAsync("s@a.test", "r@b.test", "q@b.test");
            await p.SendAsync("250 2.0.0 Ok: queued as 4XyZ\r\n");
            await p.ExpectAsync("QUIT", "221 bye\r\n");
        });
        _rig.Routes.Set("b.test", new(ResolveStatus.Ok, [new DeliveryTarget("plain.b.test", 10, [IPAddress.Loopback], relay.EndPoint.Port)], "plain"));
        StartA();
        await SendToAAsync(" ENVID=e3", "<r@b.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;r@b.test", "<q@b.test> NOTIFY=FAILURE");
        string report = await OneReportAsync("the relayed report");
        await relay.Completion;

        string status = StatusPart(report);
        Assert.Contains("Original-Envelope-Id: e3\n", status);
        Assert.Contains("Final-Recipient: rfc822; r@b.test\nAction: relayed\nStatus: 2.0.0\nRemote-MTA: dns; plain.b.test\nDiagnostic-Code: smtp; 250 2.0.0 Ok: queued as 4XyZ\n", status);
        Assert.DoesNotContain("q@b.test", status);
        Assert.Contains("does not offer delivery status notifications", System.Text.RegularExpressions.Regex.Replace(report, "\\s+", " "));
        await WaitUntilAsync(() => _rig.A.Context.Reports.Sent.Value == 1, "the report delivered");
        Assert.Equal((1, 0, 1), (_rig.A.Context.Reports.Success.Value, _rig.A.Context.Reports.Delivered.Value, _rig.A.Context.Reports.Relayed.Value));
    }

    [Fact]
    public async Task NotifyNeverSuppressesEveryReportAndNoNotifyMeansFailureOnly()
    {
        StartA();
        // gone.test does not exist (permanent failure); u and v are delivered locally.
        await SendToAAsync(string.Empty, "<x@gone.test> NOTIFY=NEVER", "<u@a.test> NOTIFY=NEVER", "<v@a.test>");
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0, "A to finish");
        Assert.Single(_rig.A.Mailbox("u"));
        Assert.Empty(SenderMailbox);
        Assert.Contains("NOTIFY excludes FAILURE", _rig.A.Log.SnapshotText());
        Assert.Equal(0, _rig.A.Context.Counters.Get(SmtpCounter.Notify, Direction.Out));
        Assert.Equal(0, _rig.A.Context.Reports.Success.Value);
    }

    [Fact]
    public async Task NotifyDelayGivesOneDelayReportWhichARestartDoesNotRepeat()
    {
        int dead = ServerProcess.FreePort();
        _rig.Routes.Set("b.test", ScriptedRoutes.To(dead));
        StartA("DELAY-NOTIF-TIME:1", "MAIL-TRY-DELAY:1");
        await SendToAAsync(" ENVID=slow", "<r@b.test> NOTIFY=DELAY,FAILURE ORCPT=rfc822;r@b.test", "<q@b.test> NOTIFY=FAILURE", "<p@b.test>");
        string report = await OneReportAsync("the delay report");
        Assert.Contains("\nSubject: Delayed Mail (still being retried)\n", report);
        Assert.Contains("THIS IS A WARNING ONLY", report);
        string status = StatusPart(report);
        Assert.Contains("Original-Envelope-Id: slow\n", status);
        Assert.Matches("Original-Recipient: rfc822; r@b.test\nFinal-Recipient: rfc822; r@b.test\nAction: delayed\nStatus: 4\\.4\\.1\n", status);
        Assert.Contains("Will-Retry-Until: ", status);
        Assert.DoesNotContain("q@b.test", status);
        Assert.DoesNotContain("p@b.test", status);
        Assert.Equal((1L, 1L), (_rig.A.Context.Reports.Delay.Value, _rig.A.Context.Reports.Delayed.Value));

        // Two more attempts (RETRY Q SMTP ALL brings them at once): no second report.
        for (int i = 0; i < 2; i++)
        {
            int deferred = Deferrals(_rig.A.Log);
            await WaitUntilAsync(() => _rig.A.Context.Queue.DeferCount == 1, "the message back in QUEUE-DEFER");
            _rig.Engine!.Retry(null);
            await WaitUntilAsync(() => Deferrals(_rig.A.Log) > deferred, "one more attempt");
        }

        Assert.Single(SenderMailbox);

        // A restart reads the flag from the retry record.
        await _rig.Engine!.DisposeAsync();
        _rig.Engine = null;
        using SpoolStore copy = SpoolStore.Open(SpoolTestData.CopyOf(_rig.A.SpoolDir), new SpoolOptions { Fsync = false }, out IReadOnlyList<RecoveredMessage> recovered);
        RecoveredMessage message = Assert.Single(recovered, m => Envelope.TryRead(m.Envelope, out Envelope? e) && !e!.IsNullSender);
        Assert.True(DeliveryState.TryDecode(message.LastRetry, 3, out DeliveryState? state));
        Assert.True(state!.DelayReported);
        var log = new SessionLog();
        var context = new SmtpContext(_rig.A.Settings, log, copy) { Mailboxes = _rig.A.Mailboxes };
        await using (DeliveryEngine again = NewEngine(context))
        {
            again.Recover(message);
            Assert.Equal(1, context.Queue.DeferCount);
            again.Start();
            again.Retry(null);
            await Eventually.WaitAsync(() => Deferrals(log) >= 1, "an attempt after the restart", TimeSpan.FromSeconds(20));
        }

        Assert.Equal(0, context.Reports.Delay.Value);
        Assert.DoesNotContain(log.ReadLines(), l => l.Contains("Delay report", StringComparison.Ordinal));
        Assert.Single(SenderMailbox);
    }

    [Theory]
    [InlineData("1", "<r@b.test> NOTIFY=FAILURE", "<q@b.test>")]
    [InlineData("0", "<r@b.test> NOTIFY=DELAY", "<q@b.test> NOTIFY=SUCCESS,DELAY,FAILURE")]
    public async Task WithoutNotifyDelayOrWithDelayNotifTimeZeroThereIsNoDelayReport(string delayNotifTime, string first, string second)
    {
        int dead = ServerProcess.FreePort();
        _rig.Routes.Set("b.test", ScriptedRoutes.To(dead));
        StartA($"DELAY-NOTIF-TIME:{delayNotifTime}", "MAIL-TRY-DELAY:1");
        await SendToAAsync(string.Empty, first, second);
        await WaitUntilAsync(() => _rig.A.Log.ReadLines().Count(l => l.Contains("Deferred message", StringComparison.Ordinal)) >= 3, "three attempts");
        Assert.Empty(SenderMailbox);
        Assert.Equal(0, _rig.A.Context.Reports.Delay.Value);
    }

    [Fact]
    public async Task ARelayServerThatIsThisServerFailsWithoutAConnectionAndOneNotification()
    {
        StartA();
        await using var aServer = new SmtpListener(_rig.A.Context);
        aServer.Start(new IPEndPoint(IPAddress.IPv6Any, 0));
        int port = aServer.LocalEndPoint!.Port;
        _rig.A.Context.ApplySettings(_rig.A.Settings with { RelayServer = "127.0.0.1", RelayServerTcpPort = port });
        await SendToAAsync(string.Empty, "<r@far.test>");

        string report = await OneReportAsync("the failure notification");
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0, "A to finish");
        Assert.Contains("Action: failed\nStatus: 5.4.6\n", StatusPart(report));
        Assert.Contains($"mail for far.test loops back to myself (SERVER 127.0.0.1 [127.0.0.1]:{port} is this server)", System.Text.RegularExpressions.Regex.Replace(report, "\\s+", " "));
        Assert.Equal(0, _rig.A.Context.Counters.Get(SmtpCounter.CallSucc, Direction.Out));
        Assert.Equal(0, _rig.A.Context.Counters.Get(SmtpCounter.CallFail, Direction.Out));
        Assert.Equal(1, _rig.A.Context.Counters.Get(SmtpCounter.Notify, Direction.Out));
        Assert.Equal(1, _rig.A.Context.Loops.LoopBack.Value);
        Assert.Single(SenderMailbox);
    }

    /// <summary>
    /// A notification (or a success/delay report) that cannot be delivered is counted and dropped,
    /// never notified about, whatever the way it fails: so notifications cannot loop.
    /// </summary>
    [Theory]
    [InlineData("5xx", false)]
    [InlineData("lifetime", false)]
    [InlineData("loops-back", false)]
    [InlineData("hop-limit", false)]
    [InlineData("5xx", true)]
    [InlineData("hop-limit", true)]
    public async Task AnUndeliverableNotificationIsNeverNotifiedAbout(string how, bool report)
    {
        StartA("QUEUE-LIFE-TIME:1");
        await using var aServer = new SmtpListener(_rig.A.Context);
        aServer.Start(new IPEndPoint(IPAddress.IPv6Any, 0));
        int bPort = _rig.BServer.LocalEndPoint!.Port;
        _rig.Routes.Set("far.test", how switch
        {
            "lifetime" => ScriptedRoutes.To(ServerProcess.FreePort()),
            "loops-back" => ScriptedRoutes.To(aServer.LocalEndPoint!.Port),
            _ => ScriptedRoutes.To(bPort), // B relays for nobody (554 5.7.1 at RCPT), or takes b.test under HOP-LIMIT:1
        });
        string to = "s@far.test";
        if (how == "hop-limit")
        {
            // B takes b.test, but with its own Received: field the notification would carry two.
            _rig.B.Context.ApplySettings(_rig.B.Settings with { HopLimit = 1 });
            to = "s@b.test";
        }

        await InternalMail.SubmitAsync(_rig.A.Context, string.Empty, [to], "Subject: a notification\r\n\r\nx\r\n"u8.ToArray(),
            report ? InternalKind.Report : InternalKind.Notification);
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0, "A to give up");
        await Eventually.HoldsForAsync(() => _rig.A.Spool.LiveMessages == 0, TimeSpan.FromMilliseconds(300), "nothing new in A's spool");
        Assert.Equal(0, _rig.A.Spool.LiveMessages);
        Assert.Contains("No notification for ", _rig.A.Log.SnapshotText());
        Assert.Contains(": null sender", _rig.A.Log.SnapshotText());
        Assert.Equal(0, _rig.A.Context.Counters.Get(SmtpCounter.Notify, Direction.Out));
        Assert.Equal(report ? 0 : 1, _rig.A.Context.Counters.Get(SmtpCounter.NotifyFail, Direction.Out));
        Assert.Equal(report ? 1 : 0, _rig.A.Context.Reports.Failed.Value);
        Assert.Empty(_rig.B.Stored());
        Assert.Equal(how == "loops-back" ? 1 : 0, _rig.A.Context.Loops.LoopBack.Value);
        Assert.Equal(how == "hop-limit" ? 1 : 0, _rig.B.Context.Loops.HopLimit.Value);
    }

    private static int Deferrals(SessionLog log) => log.ReadLines().Count(l => l.Contains("Deferred message", StringComparison.Ordinal));

    /// <summary>A scripted resolver: one answer per domain or host name; "127.0.0.1" is itself.</summary>
}
