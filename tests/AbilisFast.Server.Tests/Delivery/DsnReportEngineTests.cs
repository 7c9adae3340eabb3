using System.Collections.Concurrent;
using System.Net;
using AbilisFast.Protocol.Esmtp;
using AbilisFast.Server.Delivery;
using AbilisFast.Server.Diagnostics;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Sessions;
using AbilisFast.Server.Spool;
using AbilisFast.Server.Submission;
using AbilisFast.Server.Tests.Support;

namespace AbilisFast.Server.Tests.Delivery;

/// <summary>
/// RFC 3461 in the delivery engine, in process over loopback sockets: what each NOTIFY value gives
/// (success reports after a local delivery or a hand-off to a next hop without DSN, one delay
/// report, nothing for NEVER), what goes on to a next hop with DSN, and a next hop that is this
/// server itself. The sender s@a.test has a local mailbox on A, where the reports land.
/// </summary>
public sealed class DsnReportEngineTests : IAsyncLifetime
{
    private readonly Resolver _routes = new();
    private TestServerContext _a = null!;
    private TestServerContext _b = null!;
    private SmtpListener _bServer = null!;
    private DeliveryEngine? _engine;

    public async Task InitializeAsync()
    {
        _b = new TestServerContext("LOCAL-DOMAIN:b.test", "MAX-IP-SES:50", "SES-TOT:50");
        _bServer = new SmtpListener(_b.Context);
        _bServer.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await Task.Yield();
        _routes.Set("b.test", Resolver.To(_bServer.LocalEndPoint!.Port));
    }

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }

        await _bServer.DisposeAsync();
        _b.Dispose();
        _a?.Dispose();
    }

    private void StartA(params string[] parameters)
    {
        _a = new TestServerContext(["LOCAL-DOMAIN:a.test", "RELAY-NET:127/8", "MAIL-TRY-DELAY:1", .. parameters]);
        _engine = NewEngine(_a.Context);
        _engine.Start();
    }

    private DeliveryEngine NewEngine(SmtpContext context) => new(context, _routes, _a.Mailboxes)
    {
        ConnectTimeout = TimeSpan.FromSeconds(2),
        CommandTimeout = TimeSpan.FromSeconds(5),
        DataTimeout = TimeSpan.FromSeconds(5),
    };

    private async Task SendToAAsync(string mail, params string[] rcpts)
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_a.Context);
        Assert.StartsWith("250", await s.CommandAsync("EHLO client.test"));
        Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<s@a.test>" + mail));
        foreach (string rcpt in rcpts)
        {
            Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:" + rcpt));
        }

        Assert.StartsWith("354", await s.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: queued as ", await s.CommandAsync("Subject: dsn test\r\nX-Mark: original\r\n\r\nbody\r\n."));
    }

    private Task WaitUntilAsync(Func<bool> condition, string what) => Eventually.WaitAsync(condition, what, TimeSpan.FromSeconds(20));

    private string[] SenderMailbox => _a.Mailbox("s");

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
        string report = Assert.Single(await Eventually.WaitAsync(() => SenderMailbox is { Length: 1 } m ? m : null, "the success report", TimeSpan.FromSeconds(20)));
        Assert.Single(_a.Mailbox("u"));
        Assert.Single(_a.Mailbox("v"));

        Assert.StartsWith("Return-Path: <>\n", report);
        Assert.Contains("\nSubject: Successful Mail Delivery Report\n", report);
        Assert.Contains("\nAuto-Submitted: auto-replied\n", report);
        Assert.Contains("Content-Type: multipart/report; report-type=delivery-status;", report);
        string status = StatusPart(report);
        Assert.Contains("Reporting-MTA: dns; mx.test\n", status);
        Assert.Contains("Original-Envelope-Id: env+2Bone\n", status);
        Assert.Contains("Arrival-Date: ", status);
        Assert.Contains("Original-Recipient: rfc822; U+2Bx@a.test\nFinal-Recipient: rfc822; u@a.test\nAction: delivered\nStatus: 2.0.0\n", status);
        Assert.DoesNotContain("v@a.test", status); // no NOTIFY: failure only
        // RET=FULL concerns failures: a success report returns the header section only.
        Assert.Contains("Content-Type: text/rfc822-headers", report);
        Assert.Contains("X-Mark: original", report);
        Assert.DoesNotContain("\nbody\n", report);

        await WaitUntilAsync(() => _a.Spool.LiveMessages == 0 && _a.Context.Reports.Sent == 1, "the report to leave the queue");
        Assert.Equal((1, 1, 0), (_a.Context.Reports.Success, _a.Context.Reports.Delivered, _a.Context.Reports.Relayed));
        Assert.Equal(0, _a.Context.Counters.Get(SmtpCounter.Notify, Direction.Out));
        Assert.Equal(0, _a.Context.Counters.Get(SmtpCounter.NotifySucc, Direction.Out));
    }

    [Fact]
    public async Task ANextHopWithDsnGetsNotifyOrcptEnvidAndRetAndThisServerSendsNoReport()
    {
        StartA();
        await SendToAAsync(" RET=FULL ENVID=env2", "<r@b.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;r@b.test", "<q@b.test> NOTIFY=NEVER", "<p@b.test>");
        await WaitUntilAsync(() => _b.Context.Queue.OutCount == 1, "the message at B");
        Envelope arrived = Assert.Single(_b.Stored()).Envelope;
        Assert.Equal("env2", arrived.EnvelopeId);
        Assert.Equal(DsnReturn.Full, arrived.Return);
        Assert.Equal(
            [("r@b.test", DsnNotify.Success | DsnNotify.Delay, (string?)"rfc822;r@b.test"), ("q@b.test", DsnNotify.Never, null), ("p@b.test", DsnNotify.None, null)],
            arrived.Recipients.Select(r => (r.Address, r.Notify, r.OriginalRecipient)));

        await WaitUntilAsync(() => _a.Spool.LiveMessages == 0, "A to let go");
        Assert.Empty(SenderMailbox);
        Assert.Equal(0, _a.Context.Reports.Success);
    }

    [Fact]
    public async Task ANextHopWithoutDsnGetsNoDsnParametersAndTheSenderARelayedReport()
    {
        await using var relay = new ScriptedSmtpPeer(async p =>
        {
            await p.SendAsync("220 plain.test ESMTP\r\n");
            Assert.Equal("EHLO mx.test\r\n", await p.ReadLineAsync());
            await p.SendAsync("250-plain.test\r\n250 8BITMIME\r\n");
            Assert.Equal("MAIL FROM:<s@a.test>\r\n", await p.ReadLineAsync());
            await p.SendAsync("250 ok\r\n");
            Assert.Equal("RCPT TO:<r@b.test>\r\n", await p.ReadLineAsync());
            await p.SendAsync("250 ok\r\n");
            Assert.Equal("RCPT TO:<q@b.test>\r\n", await p.ReadLineAsync());
            await p.SendAsync("250 ok\r\n");
            Assert.Equal("DATA\r\n", await p.ReadLineAsync());
            await p.SendAsync("354 go\r\n");
            await p.ReadDataAsync();
            await p.SendAsync("250 2.0.0 Ok: queued as 4XyZ\r\n");
            Assert.Equal("QUIT\r\n", await p.ReadLineAsync());
            await p.SendAsync("221 bye\r\n");
        });
        _routes.Set("b.test", new(ResolveStatus.Ok, [new DeliveryTarget("plain.b.test", 10, [IPAddress.Loopback], relay.EndPoint.Port)], "plain"));
        StartA();
        await SendToAAsync(" ENVID=e3", "<r@b.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;r@b.test", "<q@b.test> NOTIFY=FAILURE");
        string report = Assert.Single(await Eventually.WaitAsync(() => SenderMailbox is { Length: 1 } m ? m : null, "the relayed report", TimeSpan.FromSeconds(20)));
        await relay.Completion;

        string status = StatusPart(report);
        Assert.Contains("Original-Envelope-Id: e3\n", status);
        Assert.Contains("Final-Recipient: rfc822; r@b.test\nAction: relayed\nStatus: 2.0.0\nRemote-MTA: dns; plain.b.test\nDiagnostic-Code: smtp; 250 2.0.0 Ok: queued as 4XyZ\n", status);
        Assert.DoesNotContain("q@b.test", status);
        Assert.Contains("does not offer delivery status notifications", System.Text.RegularExpressions.Regex.Replace(report, "\\s+", " "));
        await WaitUntilAsync(() => _a.Context.Reports.Sent == 1, "the report delivered");
        Assert.Equal((1, 0, 1), (_a.Context.Reports.Success, _a.Context.Reports.Delivered, _a.Context.Reports.Relayed));
    }

    [Fact]
    public async Task NotifyNeverSuppressesEveryReportAndNoNotifyMeansFailureOnly()
    {
        StartA();
        // gone.test does not exist (permanent failure); u and v are delivered locally.
        await SendToAAsync(string.Empty, "<x@gone.test> NOTIFY=NEVER", "<u@a.test> NOTIFY=NEVER", "<v@a.test>");
        await WaitUntilAsync(() => _a.Spool.LiveMessages == 0, "A to finish");
        Assert.Single(_a.Mailbox("u"));
        Assert.Empty(SenderMailbox);
        Assert.Contains("NOTIFY excludes FAILURE", _a.Log.SnapshotText());
        Assert.Equal(0, _a.Context.Counters.Get(SmtpCounter.Notify, Direction.Out));
        Assert.Equal(0, _a.Context.Reports.Success);
    }

    [Fact]
    public async Task NotifyDelayGivesOneDelayReportWhichARestartDoesNotRepeat()
    {
        int dead = ServerProcess.FreePort();
        _routes.Set("b.test", Resolver.To(dead));
        StartA("DELAY-NOTIF-TIME:1", "MAIL-TRY-DELAY:1");
        await SendToAAsync(" ENVID=slow", "<r@b.test> NOTIFY=DELAY,FAILURE ORCPT=rfc822;r@b.test", "<q@b.test> NOTIFY=FAILURE", "<p@b.test>");
        string report = Assert.Single(await Eventually.WaitAsync(() => SenderMailbox is { Length: 1 } m ? m : null, "the delay report", TimeSpan.FromSeconds(20)));
        Assert.Contains("\nSubject: Delayed Mail (still being retried)\n", report);
        Assert.Contains("THIS IS A WARNING ONLY", report);
        string status = StatusPart(report);
        Assert.Contains("Original-Envelope-Id: slow\n", status);
        Assert.Matches("Original-Recipient: rfc822; r@b.test\nFinal-Recipient: rfc822; r@b.test\nAction: delayed\nStatus: 4\\.4\\.1\n", status);
        Assert.Contains("Will-Retry-Until: ", status);
        Assert.DoesNotContain("q@b.test", status);
        Assert.DoesNotContain("p@b.test", status);
        Assert.Equal((1L, 1L), (_a.Context.Reports.Delay, _a.Context.Reports.Delayed));

        // Two more attempts (RETRY Q SMTP ALL brings them at once): no second report.
        for (int i = 0; i < 2; i++)
        {
            int deferred = Deferrals(_a.Log);
            await WaitUntilAsync(() => _a.Context.Queue.DeferCount == 1, "the message back in QUEUE-DEFER");
            _engine!.Retry(null);
            await WaitUntilAsync(() => Deferrals(_a.Log) > deferred, "one more attempt");
        }

        Assert.Single(SenderMailbox);

        // A restart reads the flag from the retry record.
        await _engine!.DisposeAsync();
        _engine = null;
        using SpoolStore copy = SpoolStore.Open(CopyOf(_a.SpoolDir), new SpoolOptions { Fsync = false }, out IReadOnlyList<RecoveredMessage> recovered);
        RecoveredMessage message = Assert.Single(recovered, m => Envelope.TryRead(m.Envelope, out Envelope? e) && !e!.IsNullSender);
        Assert.True(DeliveryState.TryDecode(message.LastRetry, 3, out DeliveryState? state));
        Assert.True(state!.DelayReported);
        var log = new SessionLog();
        var context = new SmtpContext(_a.Settings, log, copy) { Mailboxes = _a.Mailboxes };
        await using (DeliveryEngine again = NewEngine(context))
        {
            again.Recover(message);
            Assert.Equal(1, context.Queue.DeferCount);
            again.Start();
            again.Retry(null);
            await Eventually.WaitAsync(() => Deferrals(log) >= 1, "an attempt after the restart", TimeSpan.FromSeconds(20));
        }

        Assert.Equal(0, context.Reports.Delay);
        Assert.DoesNotContain(log.ReadLines(), l => l.Contains("Delay report", StringComparison.Ordinal));
        Assert.Single(SenderMailbox);
    }

    [Theory]
    [InlineData("1", "<r@b.test> NOTIFY=FAILURE", "<q@b.test>")]
    [InlineData("0", "<r@b.test> NOTIFY=DELAY", "<q@b.test> NOTIFY=SUCCESS,DELAY,FAILURE")]
    public async Task WithoutNotifyDelayOrWithDelayNotifTimeZeroThereIsNoDelayReport(string delayNotifTime, string first, string second)
    {
        int dead = ServerProcess.FreePort();
        _routes.Set("b.test", Resolver.To(dead));
        StartA($"DELAY-NOTIF-TIME:{delayNotifTime}", "MAIL-TRY-DELAY:1");
        await SendToAAsync(string.Empty, first, second);
        await WaitUntilAsync(() => _a.Log.ReadLines().Count(l => l.Contains("Deferred message", StringComparison.Ordinal)) >= 3, "three attempts");
        Assert.Empty(SenderMailbox);
        Assert.Equal(0, _a.Context.Reports.Delay);
    }

    [Fact]
    public async Task ARelayServerThatIsThisServerFailsWithoutAConnectionAndOneNotification()
    {
        StartA();
        await using var aServer = new SmtpListener(_a.Context);
        aServer.Start(new IPEndPoint(IPAddress.IPv6Any, 0));
        int port = aServer.LocalEndPoint!.Port;
        _a.Context.ApplySettings(_a.Settings with { RelayServer = "127.0.0.1", RelayServerTcpPort = port });
        await SendToAAsync(string.Empty, "<r@far.test>");

        string report = Assert.Single(await Eventually.WaitAsync(() => SenderMailbox is { Length: 1 } m ? m : null, "the failure notification", TimeSpan.FromSeconds(20)));
        await WaitUntilAsync(() => _a.Spool.LiveMessages == 0, "A to finish");
        Assert.Contains("Action: failed\nStatus: 5.4.6\n", StatusPart(report));
        Assert.Contains($"mail for far.test loops back to myself (SERVER 127.0.0.1 [127.0.0.1]:{port} is this server)", System.Text.RegularExpressions.Regex.Replace(report, "\\s+", " "));
        Assert.Equal(0, _a.Context.Counters.Get(SmtpCounter.CallSucc, Direction.Out));
        Assert.Equal(0, _a.Context.Counters.Get(SmtpCounter.CallFail, Direction.Out));
        Assert.Equal(1, _a.Context.Counters.Get(SmtpCounter.Notify, Direction.Out));
        Assert.Equal(1, _a.Context.Loops.LoopBack);
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
        await using var aServer = new SmtpListener(_a.Context);
        aServer.Start(new IPEndPoint(IPAddress.IPv6Any, 0));
        int bPort = _bServer.LocalEndPoint!.Port;
        _routes.Set("far.test", how switch
        {
            "lifetime" => Resolver.To(ServerProcess.FreePort()),
            "loops-back" => Resolver.To(aServer.LocalEndPoint!.Port),
            _ => Resolver.To(bPort), // B relays for nobody (554 5.7.1 at RCPT), or takes b.test under HOP-LIMIT:1
        });
        string to = "s@far.test";
        if (how == "hop-limit")
        {
            // B takes b.test, but with its own Received: field the notification would carry two.
            _b.Context.ApplySettings(_b.Settings with { HopLimit = 1 });
            to = "s@b.test";
        }

        await InternalMail.SubmitAsync(_a.Context, string.Empty, [to], "Subject: a notification\r\n\r\nx\r\n"u8.ToArray(),
            report ? InternalKind.Report : InternalKind.Notification);
        await WaitUntilAsync(() => _a.Spool.LiveMessages == 0, "A to give up");
        await Task.Delay(300);
        Assert.Equal(0, _a.Spool.LiveMessages);
        Assert.Contains("No notification for ", _a.Log.SnapshotText());
        Assert.Contains(": null sender", _a.Log.SnapshotText());
        Assert.Equal(0, _a.Context.Counters.Get(SmtpCounter.Notify, Direction.Out));
        Assert.Equal(report ? 0 : 1, _a.Context.Counters.Get(SmtpCounter.NotifyFail, Direction.Out));
        Assert.Equal(report ? 1 : 0, _a.Context.Reports.Failed);
        Assert.Empty(_b.Stored());
        Assert.Equal(how == "loops-back" ? 1 : 0, _a.Context.Loops.LoopBack);
        Assert.Equal(how == "hop-limit" ? 1 : 0, _b.Context.Loops.HopLimit);
    }

    private static int Deferrals(SessionLog log) => log.ReadLines().Count(l => l.Contains("Deferred message", StringComparison.Ordinal));

    private static string CopyOf(string spoolDir)
    {
        string copy = Path.Combine(Path.GetTempPath(), "abilisfast-restart-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.GetFiles(spoolDir))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        return copy;
    }

    /// <summary>A scripted resolver: one answer per domain or host name; "127.0.0.1" is itself.</summary>
    private sealed class Resolver : IMailRouteResolver
    {
        private readonly ConcurrentDictionary<string, ResolveResult> _answers = new(StringComparer.OrdinalIgnoreCase);

        public static ResolveResult To(int port) =>
            new(ResolveStatus.Ok, [new DeliveryTarget("mx.b.test", 10, [IPAddress.Loopback], port)], $"MX mx.b.test (10) 127.0.0.1:{port}");

        public void Set(string name, ResolveResult answer) => _answers[name] = answer;

        public Task<ResolveResult> ResolveMxAsync(string domain, int port, CancellationToken cancellationToken) => Answer(domain, port);

        public Task<ResolveResult> ResolveHostAsync(string host, int port, CancellationToken cancellationToken) => Answer(host, port);

        private Task<ResolveResult> Answer(string name, int port) =>
            Task.FromResult(_answers.TryGetValue(name, out ResolveResult? answer) ? answer
                : IPAddress.TryParse(name, out IPAddress? address) ? new(ResolveStatus.Ok, [new DeliveryTarget(name, 0, [address], port)], $"{name}:{port}")
                : ResolveResult.Permanent($"5.1.2 {name}: domain not found"));
    }
}
