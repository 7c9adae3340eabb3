namespace AbilisFast.Server.Tests.Delivery;

/// <summary>
/// The delivery engine in process, over real loopback sockets: the sending server A delivers to a
/// second in-process AbilisFast B (whose spool shows what arrived), with routes from a scripted
/// resolver. The real executable with DNS and smtp-sink is in <see cref="DeliveryEndToEndTests"/>.
/// </summary>
public sealed class DeliveryEngineTests : IAsyncLifetime
{
    private TwoServers _rig = null!;

    public async Task InitializeAsync() => _rig = await TwoServers.StartAsync();

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    private int BPort => _rig.BPort;

    private DeliveryEngine StartA(params string[] parameters) => _rig.StartA(parameters);

    /// <summary>Sends one message into A over an SMTP session (external mail); returns its id.</summary>
    private Task<string> SendToAAsync(string from, string[] to, string body, string mailParameters = "") =>
        _rig.SendToAAsync($"<{from}>{mailParameters}", to, body);

    private Task WaitUntilAsync(Func<bool> condition, string what) => _rig.WaitUntilAsync(condition, what);

    private long A(SmtpCounter counter) => _rig.A.Context.Counters.Get(counter, Direction.Out);

    private void AssertOutCounters(string expected) => CounterAssert.Equal(expected, _rig.A.Context.Counters, Direction.Out);

    [Fact]
    public async Task ARelayedMessageArrivesByteIdenticalAndLeavesTheSpool()
    {
        StartA("QUEUE-HOLD:YES"); // held until A's stored copy is read
        string body = "Subject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\n" + new string('x', 998) + "\r\n8-bit: caf\u00e9\r\nend\r\n";
        await SendToAAsync("s@a.test", ["r@b.test", "q@b.test"], body);
        string sent = Assert.Single(_rig.A.Stored()).Body;
        _rig.A.Context.ApplySettings(_rig.A.Settings with { QueueHold = false });

        await WaitUntilAsync(() => _rig.B.Context.Queue.OutCount == 1, "the message at B");
        StoredMessage arrived = Assert.Single(_rig.B.Stored());
        Assert.EndsWith(sent, arrived.Body);
        Assert.StartsWith("Received: from mx.test ", arrived.Body);
        Assert.Equal(["r@b.test", "q@b.test"], arrived.Envelope.Recipients.Select(r => r.Address));
        Assert.Equal("s@a.test", arrived.Envelope.Sender);

        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0, "A's spool to let go");
        AssertOutCounters("EXT-SUCC:1 RELAY-SUCC:1 CALL-SUCC:1 EXT-FAIL:0");
        Assert.Contains("Delivering message: ", _rig.A.Log.SnapshotText());
        Assert.Contains("Start out-bound session", _rig.A.Log.SnapshotText());
        Assert.Contains("DNS solving MX: b.test", _rig.A.Log.SnapshotText());
    }

    [Fact]
    public async Task Utf8AddressesAndTextRelayIntactWithSmtpUtf8()
    {
        StartA();
        string body = "Subject: gr\u00fc\u00dfe\r\nFrom: J\u00f6rg <j\u00f6rg@a.test>\r\n\r\n\u65e5\u672c\u8a9e \u00e9\u00e8\r\n";
        await SendToAAsync("j\u00f6rg@a.test", ["m\u00fcller@b.test"], body, " SMTPUTF8");
        await WaitUntilAsync(() => _rig.B.Context.Queue.OutCount == 1, "the message at B");
        StoredMessage arrived = Assert.Single(_rig.B.Stored());
        Assert.Equal("j\u00f6rg@a.test", arrived.Envelope.Sender);
        Assert.Equal("m\u00fcller@b.test", Assert.Single(arrived.Envelope.Recipients).Address);
        Assert.EndsWith(body, arrived.Body);
        Assert.Equal(1, _rig.B.Context.Counters.Get(SmtpCounter.ExtSucc, Direction.In));
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0, "A's spool to let go");
    }

    [Fact]
    public async Task MessagesToOneHostShareOneConnection()
    {
        // One OUT channel: one session takes the messages one after the other on one connection.
        StartA("SES-TOT:3", "SES-RESERVED-IN:2", "SES-RESERVED-OUT:1", "QUEUE-HOLD:YES");
        for (int i = 0; i < 5; i++)
        {
            await SendToAAsync("s@a.test", ["r@b.test"], $"Subject: {i}\r\n\r\nbody {i}\r\n");
        }

        _rig.A.Context.ApplySettings(_rig.A.Settings with { QueueHold = false });
        await WaitUntilAsync(() => _rig.B.Context.Queue.OutCount == 5, "five messages at B");
        Assert.Equal(1, _rig.B.Context.Counters.Get(SmtpCounter.CallSucc, Direction.In));
        Assert.Equal(5, _rig.B.Context.Counters.Get(SmtpCounter.ExtSucc, Direction.In));
        await WaitUntilAsync(() => _rig.Engine!.Sessions == 0, "the OUT session to end");
        Assert.Equal(1, A(SmtpCounter.CallSucc));
        Assert.Equal(5, A(SmtpCounter.ExtSucc));
        SmtpChannelSnapshot(0);
    }

    private void SmtpChannelSnapshot(int number)
    {
        var channel = _rig.A.Context.Channels.Channels[number];
        Assert.Equal(TcpState.Ready, channel.TcpState);
        Assert.Equal(SmtpState.Ready, channel.SmtpState);
    }

    [Fact]
    public async Task ADeadHostDefersThenTheRetryDelivers()
    {
        int dead = ServerProcess.FreePort();
        _rig.Routes.Set("b.test", ScriptedRoutes.To(dead));
        StartA();
        await SendToAAsync("s@a.test", ["r@b.test"], "Subject: later\r\n\r\nx\r\n");
        await WaitUntilAsync(() => _rig.A.Context.Queue.DeferCount == 1, "QUEUE-DEFER");
        Assert.Equal(1, A(SmtpCounter.CallFail));
        Assert.Contains("Deferred message: ", _rig.A.Log.SnapshotText());

        _rig.Routes.Set("b.test", ScriptedRoutes.To(BPort));
        await WaitUntilAsync(() => _rig.B.Context.Queue.OutCount == 1, "the retried message at B");
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0, "A's spool to let go");
        Assert.Equal(0, _rig.A.Context.Queue.DeferCount);
        AssertOutCounters("EXT-SUCC:1 EXT-FAIL:0 NOTIFY:0");
    }

    [Fact]
    public async Task APermanentRefusalGivesExactlyOneNotificationInTheSendersMailbox()
    {
        StartA("STORE-MB:YES");
        // B refuses to relay for other domains: 554 5.7.1 for far@elsewhere.test, 250 for r@b.test.
        _rig.Routes.Set("elsewhere.test", ScriptedRoutes.To(BPort));
        await SendToAAsync("s@a.test", ["r@b.test", "far@elsewhere.test"], "Subject: half\r\nX-Original: yes\r\n\r\nbody\r\n", " RET=HDRS ENVID=env+2B1");
        string[] notifications = await Eventually.WaitAsync(() => _rig.A.Mailbox("s") is { Length: 1 } m ? m : null, "the notification in mailbox s");
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0, "A's spool to let go");

        string dsn = Assert.Single(notifications);
        Assert.Contains("Return-Path: <>\n", dsn); // Maildir files have LF line ends
        AssertText.ContainsAll(
            dsn,
            "Content-Type: multipart/report; report-type=delivery-status;",
            "Final-Recipient: rfc822; far@elsewhere.test",
            "Diagnostic-Code: smtp; 554 5.7.1",
            "Original-Envelope-Id: env+2B1",
            "X-Original: yes");
        Assert.DoesNotContain("r@b.test", dsn[dsn.IndexOf("message/delivery-status", StringComparison.Ordinal)..dsn.IndexOf("X-Original", StringComparison.Ordinal)]);
        Assert.Equal(1, _rig.B.Context.Queue.OutCount);

        AssertOutCounters("EXT-SUCC:1 EXT-FAIL:1 RELAY-SUCC:1 RELAY-FAIL:1 NOTIFY:1 NOTIFY-LT:0 NOTIFY-SUCC:1 LOCAL-SUCC:1");
    }

    [Fact]
    public async Task NotifyNeverAndTheNullSenderGetNoNotification()
    {
        StartA("STORE-MB:YES");
        _rig.Routes.Set("elsewhere.test", ScriptedRoutes.To(BPort));
        await using (SessionHarness s = await SessionHarness.StartAsync(_rig.A.Context))
        {
            await s.CommandAsync("EHLO c.test");
            await s.CommandAsync("MAIL FROM:<s@a.test>");
            Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<far@elsewhere.test> NOTIFY=NEVER"));
            await s.CommandAsync("DATA");
            Assert.StartsWith("250", await s.CommandAsync("x\r\n."));
        }

        await SendToAAsync("", ["far@elsewhere.test"], "Subject: bounce of a bounce\r\n\r\nx\r\n");
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0, "both messages to leave A");
        Assert.Empty(_rig.A.Mailbox("s"));
        Assert.Equal(2, A(SmtpCounter.ExtFail));
        Assert.Equal(0, A(SmtpCounter.Notify));
        Assert.Contains("NOTIFY excludes FAILURE", _rig.A.Log.SnapshotText());
        Assert.Contains(": null sender", _rig.A.Log.SnapshotText());
    }

    [Fact]
    public async Task ANotificationThatCannotBeDeliveredIsCountedAndDroppedWithoutALoop()
    {
        StartA();
        _rig.Routes.Set("elsewhere.test", ScriptedRoutes.To(BPort));
        _rig.Routes.Set("gone.test", ResolveResult.Permanent("5.1.2 gone.test: domain not found"));
        await SendToAAsync("x@gone.test", ["far@elsewhere.test"], "Subject: doomed\r\n\r\nx\r\n");
        await WaitUntilAsync(() => A(SmtpCounter.NotifyFail) == 1, "NOTIFY-FAIL");
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0, "A's spool to empty");
        await Eventually.HoldsForAsync(() => _rig.A.Spool.LiveMessages == 0 && A(SmtpCounter.Notify) == 1, TimeSpan.FromMilliseconds(300), "no second notification");
        Assert.Equal(1, A(SmtpCounter.Notify));
        Assert.Equal(0, A(SmtpCounter.NotifySucc));
        Assert.Equal(0, _rig.A.Context.Queue.OutCount + _rig.A.Context.Queue.DeferCount);
    }

    [Fact]
    public async Task TemporaryDnsTroubleDefersAndANullMxFails()
    {
        StartA("STORE-MB:YES");
        _rig.Routes.Set("slow.test", ResolveResult.Temporary("4.4.3 DNS timeout for slow.test"));
        _rig.Routes.Set("nullmx.test", ResolveResult.Permanent("5.1.10 nullmx.test has a null MX (RFC 7505): it accepts no mail"));
        await SendToAAsync("s@a.test", ["u@slow.test", "v@nullmx.test"], "Subject: dns\r\n\r\nx\r\n");
        string dsn = Assert.Single(await Eventually.WaitAsync(() => _rig.A.Mailbox("s") is { Length: 1 } m ? m : null, "the notification"));
        Assert.Contains("Final-Recipient: rfc822; v@nullmx.test", dsn);
        Assert.Contains("Status: 5.1.10", dsn);
        Assert.DoesNotContain("u@slow.test", dsn[dsn.IndexOf("message/delivery-status", StringComparison.Ordinal)..]);
        await WaitUntilAsync(() => _rig.A.Context.Queue.DeferCount == 1, "u@slow.test deferred");
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 1, "the notification to leave; the original stays for u@slow.test");
        Assert.Equal(0, A(SmtpCounter.ExtSucc) + A(SmtpCounter.ExtFail));
    }

    [Fact]
    public async Task LifetimeExpiryNotifiesOnceAndTheMessageLeaves()
    {
        int dead = ServerProcess.FreePort();
        _rig.Routes.Set("b.test", ScriptedRoutes.To(dead));
        StartA("STORE-MB:YES", "QUEUE-LIFE-TIME:2");
        await SendToAAsync("s@a.test", ["r@b.test"], "Subject: too late\r\n\r\nx\r\n");
        string dsn = Assert.Single(await Eventually.WaitAsync(() => _rig.A.Mailbox("s") is { Length: 1 } m ? m : null, "the lifetime notification"));
        Assert.Contains("Subject: Undelivered Mail: message lifetime expired", dsn);
        Assert.Contains("Status: 4.4.7", dsn);
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0, "A's spool to empty");
        AssertOutCounters("NOTIFY-LT:1 NOTIFY:1 EXT-FAIL:1");
        Assert.True(A(SmtpCounter.CallFail) >= 1);
    }

    [Fact]
    public async Task MaxFailNotifCapsTheNotificationsWaiting()
    {
        StartA("STORE-MB:YES", "MAX-FAIL-NOTIF:0");
        _rig.Routes.Set("elsewhere.test", ScriptedRoutes.To(BPort));
        await SendToAAsync("s@a.test", ["far@elsewhere.test"], "Subject: capped\r\n\r\nx\r\n");
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0 && A(SmtpCounter.NotifyFail) == 1, "the capped notification");
        Assert.Empty(_rig.A.Mailbox("s"));
        Assert.Contains("MAX-FAIL-NOTIF is 0", _rig.A.Log.SnapshotText());
    }

    [Fact]
    public async Task LocalDeliveryGoesToTheMaildirAndAFullMailboxIsRefusedAtRcpt()
    {
        StartA("STORE-MB:YES", "MB-MAXMAILS:1");
        await SendToAAsync("s@b.test", ["box@a.test"], "Subject: one\r\n\r\nfirst\r\n");
        string first = Assert.Single(await Eventually.WaitAsync(() => _rig.A.Mailbox("box") is { Length: 1 } m ? m : null, "the first message"));
        Assert.StartsWith("Return-Path: <s@b.test>\nDelivered-To: box@a.test\nReceived: from client.test", first);
        Assert.EndsWith("Subject: one\n\nfirst\n", first);
        await WaitUntilAsync(() => A(SmtpCounter.LocalSucc) == 1, "LOCAL-SUCC");

        await using SessionHarness s = await SessionHarness.StartAsync(_rig.A.Context);
        await s.CommandAsync("MAIL FROM:<s@b.test>");
        Assert.Equal("452 4.2.2 Mailbox full, try again later", await s.CommandAsync("RCPT TO:<box@a.test>"));
    }

    [Fact]
    public async Task WithoutMailboxesOrServerLocalRecipientsAreRefusedAtRcptButThePostmasterIsKept()
    {
        StartA("STORE-MB:NO");
        await using SessionHarness s = await SessionHarness.StartAsync(_rig.A.Context);
        await s.CommandAsync("MAIL FROM:<s@b.test>");
        Assert.StartsWith("550 5.1.1 ", await s.CommandAsync("RCPT TO:<box@a.test>"));
        Assert.StartsWith("550 5.1.1 ", await s.CommandAsync("RCPT TO:<postmaster@a.test>"));

        // RFC 5321 4.5.1: the bare postmaster is always accepted, and kept in its own mailbox here.
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<postmaster>"));
        Assert.StartsWith("354", await s.CommandAsync("DATA"));
        Assert.StartsWith("250", await s.CommandAsync("Subject: to the postmaster\r\n\r\nhello\r\n."));
        string delivered = Assert.Single(await Eventually.WaitAsync(() => _rig.A.Mailbox("postmaster") is { Length: 1 } m ? m : null, "the postmaster's mailbox"));
        Assert.EndsWith("Subject: to the postmaster\n\nhello\n", delivered);
        await WaitUntilAsync(() => A(SmtpCounter.LocalSucc) == 1, "LOCAL-SUCC");
    }

    [Fact]
    public async Task WithStoreMbNoLocalMailGoesToTheRelayServer()
    {
        _rig.Routes.Set("relay.b.test", ScriptedRoutes.To(BPort));
        StartA("STORE-MB:NO", "SERVER:relay.b.test");
        await SendToAAsync("s@b.test", ["box@a.test", "r@b.test"], "Subject: via server\r\n\r\nx\r\n");
        await WaitUntilAsync(() => _rig.B.Context.Queue.OutCount == 1 || _rig.B.Context.Counters.Get(SmtpCounter.RelayFail, Direction.In) > 0, "the message at B");
        Assert.Contains("DNS solving relay server: relay.b.test", _rig.A.Log.SnapshotText());
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0, "A to finish");
        // B is not a relay for a.test: it takes r@b.test and refuses box@a.test, which A reports as
        // failed, with a notification to s@b.test that goes to B as well.
        await WaitUntilAsync(() => _rig.B.Stored().Count == 2, "the message and the notification at B");
        Assert.Equal(["r@b.test"], Assert.Single(_rig.B.Stored(), m => m.Envelope.Sender == "s@b.test").Envelope.Recipients.Select(r => r.Address));
        StoredMessage notification = Assert.Single(_rig.B.Stored(), m => m.Envelope.Sender.Length == 0);
        Assert.Contains("Final-Recipient: rfc822; box@a.test", notification.Body);
        Assert.Equal(1, A(SmtpCounter.LocalFail));
        Assert.Equal(2, A(SmtpCounter.RelaySucc)); // the message (r@b.test) and the notification
        Assert.Equal(1, A(SmtpCounter.NotifySucc));
    }

    [Fact]
    public async Task TheRelayServerGetsStartTlsAndAuthAsTheParametersSay()
    {
        string? auth = null;
        await using var relay = new ScriptedSmtpPeer(async p =>
        {
            await p.SendAsync("220 relay.test ESMTP\r\n");
            await p.ExpectAsync("EHLO mx.test", "250-relay.test\r\n250 STARTTLS\r\n");
            await p.ExpectAsync("STARTTLS", "220 go ahead\r\n");
            await p.UpgradeToTlsAsync();
            await p.ExpectAsync("EHLO mx.test", "250-relay.test\r\n250 AUTH PLAIN\r\n");
            auth = await p.ReadLineAsync();
            await p.SendAsync("235 ok\r\n");
            Assert.EndsWith("Subject: over tls\r\n\r\nx\r\n.\r\n", await p.ExpectTransactionAsync("s@a.test", "r@far.test"));
            await p.SendAsync("250 2.0.0 queued\r\n");
            await p.ExpectAsync("QUIT", "221 bye\r\n");
        });
        _rig.Routes.Set("relay.test", ScriptedRoutes.To(relay.EndPoint.Port));
        StartA("SERVER:relay.test", "SERVER-SECURITY:STARTTLS", "SERVER-TLS-VERIFY:NO", "SERVER-AUTH:YES", "SERVER-USER:appliance", "SERVER-PWD:s3cret");
        await SendToAAsync("s@a.test", ["r@far.test"], "Subject: over tls\r\n\r\nx\r\n");
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 0, "A to deliver");
        await relay.Completion;
        Assert.Equal("AUTH PLAIN " + Convert.ToBase64String("\0appliance\0s3cret"u8) + "\r\n", auth);
        Assert.Equal(1, A(SmtpCounter.ExtSucc));
        Assert.Matches("TLS with [a-z.]+: Tls", _rig.A.Log.SnapshotText());
    }

    [Fact]
    public async Task QueueControlHoldsReleasesRetriesAndDeletesAndAHoldSurvivesARestart()
    {
        int dead = ServerProcess.FreePort();
        _rig.Routes.Set("b.test", ScriptedRoutes.To(dead));
        StartA("MAIL-TRY-DELAY:3600");
        string first = await SendToAAsync("s@a.test", ["r@b.test"], "Subject: one\r\n\r\nx\r\n");
        string second = await SendToAAsync("s@a.test", ["q@b.test"], "Subject: two\r\n\r\nx\r\n");
        string third = await SendToAAsync("s@a.test", ["p@b.test"], "Subject: three\r\n\r\nx\r\n");
        await WaitUntilAsync(() => _rig.A.Context.Queue.DeferCount == 3, "three deferred");
        IQueueControl queue = _rig.A.Context.QueueControl!;
        Assert.Same(_rig.Engine, queue);

        QueueEntry entry = Assert.Single(queue.List(), e => e.Message.Id.ToString("X8") == first);
        Assert.Equal(QueueEntryState.Defer, entry.State);
        Assert.Equal(1, entry.Attempts);
        Assert.Contains("Connection refused", entry.LastReplies[0], StringComparison.OrdinalIgnoreCase);
        Assert.True(entry.NextTryUnixMs > DateTimeOffset.UtcNow.AddMinutes(50).ToUnixTimeMilliseconds());

        uint Id(string hex) => uint.Parse(hex, System.Globalization.NumberStyles.HexNumber);
        Assert.Equal(1, queue.Hold(Id(first)));
        Assert.Equal("message " + first + " is already on hold", Assert.Throws<QueueControlException>(() => queue.Hold(Id(first))).Message);
        Assert.Contains("is in QUEUE-DEFER, not on hold", Assert.Throws<QueueControlException>(() => queue.Release(Id(second))).Message);
        Assert.Equal(1, queue.Delete(Id(third)));
        Assert.Contains("no message 0000BEEF queued", Assert.Throws<QueueControlException>(() => queue.Delete(0xBEEF)).Message);
        Assert.Equal(QueueEntryState.Hold, Assert.Single(queue.List(), e => e.Message.Id == Id(first)).State);
        Assert.Equal(1, _rig.A.Context.Queue.DeferCount);

        // The remote is back: RETRY brings the deferred one at once, the held one stays.
        _rig.Routes.Set("b.test", ScriptedRoutes.To(BPort));
        Assert.Equal(1, queue.Retry(Id(second)));
        await WaitUntilAsync(() => _rig.B.Context.Queue.OutCount == 1, "the retried message at B");
        Assert.Contains("Subject: two", Assert.Single(_rig.B.Stored()).Body);
        await WaitUntilAsync(() => _rig.A.Spool.LiveMessages == 1, "only the held message left");

        // A restart keeps the hold.
        await _rig.Engine!.DisposeAsync();
        _rig.Engine = null;
        using SpoolStore copy = SpoolStore.Open(SpoolTestData.CopyOf(_rig.A.SpoolDir), new SpoolOptions { Fsync = false }, out IReadOnlyList<RecoveredMessage> recovered);
        var context = new SmtpContext(_rig.A.Settings, new SessionLog(), copy) { Mailboxes = _rig.A.Mailboxes };
        await using var again = new DeliveryEngine(context, _rig.Routes, _rig.A.Mailboxes);
        again.Recover(Assert.Single(recovered));
        again.Start();
        QueueEntry held = Assert.Single(again.List());
        Assert.Equal(QueueEntryState.Hold, held.State);
        Assert.Equal(0, context.Queue.OutCount + context.Queue.DeferCount);

        Assert.Equal(1, again.Release(null));
        await WaitUntilAsync(() => _rig.B.Context.Queue.OutCount == 2, "the released message at B");
        await WaitUntilAsync(() => copy.LiveMessages == 0, "the restarted spool to let go");
        Assert.Equal(0, A(SmtpCounter.Notify));
        Assert.Contains("deleted from the console", _rig.A.Log.SnapshotText());
    }

    [Fact]
    public async Task RetryStateSurvivesARestart()
    {
        int dead = ServerProcess.FreePort();
        _rig.Routes.Set("b.test", ScriptedRoutes.To(dead));
        StartA("MAIL-TRY-DELAY:3");
        await SendToAAsync("s@a.test", ["r@b.test", "q@b.test"], "Subject: restart\r\n\r\nx\r\n");
        await WaitUntilAsync(() => _rig.A.Context.Queue.DeferCount == 1, "QUEUE-DEFER");
        await _rig.Engine!.DisposeAsync();
        _rig.Engine = null;

        // What a restart sees: the message with its retry record, due in the future.
        using SpoolStore copy = SpoolStore.Open(SpoolTestData.CopyOf(_rig.A.SpoolDir), new SpoolOptions { Fsync = false }, out IReadOnlyList<RecoveredMessage> recovered);
        RecoveredMessage message = Assert.Single(recovered);
        Assert.NotNull(message.LastRetry);
        Assert.True(DeliveryState.TryDecode(message.LastRetry, 2, out DeliveryState? state));
        Assert.Equal(1, state!.Attempts);
        Assert.All(state.Status, s => Assert.Equal(RecipientStatus.Pending, s));
        Assert.Contains("Connection refused", state.LastReply[0], StringComparison.OrdinalIgnoreCase);

        var context = new SmtpContext(_rig.A.Settings, new SessionLog(), copy) { Mailboxes = _rig.A.Mailboxes };
        await using var again = new DeliveryEngine(context, _rig.Routes, _rig.A.Mailboxes);
        again.Recover(message);
        Assert.Equal(1, context.Queue.DeferCount);
        _rig.Routes.Set("b.test", ScriptedRoutes.To(BPort));
        again.Start();
        await WaitUntilAsync(() => _rig.B.Context.Queue.OutCount == 1, "the message at B after the restart");
        await WaitUntilAsync(() => copy.LiveMessages == 0, "the restarted spool to let go");
    }

    /// <summary>A scripted resolver: one answer per domain or host name.</summary>
}
