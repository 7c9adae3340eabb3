namespace AbilisFast.Server.Tests.Faults;

/// <summary>
/// A relay server that answers garbage, hangs in the middle of a reply, drops the connection in
/// the middle of the text, never answers at all, dribbles its greeting a byte at a time or answers
/// 4xx to everything, at every attempt: the message is deferred (and shown so on the console),
/// the server keeps running, and when QUEUE-LIFE-TIME is spent the sender gets exactly one
/// notification, not one per attempt. A stuck relay server costs one OUT session per retry, not
/// one per queued message, and never the channels kept for incoming mail.
/// </summary>
[Collection("EndToEnd")]
public sealed partial class RemoteFaultTests
{
    [Theory]
    [InlineData(RemoteFault.Garbage)]
    [InlineData(RemoteFault.HangMidReply)]
    [InlineData(RemoteFault.DropMidData)]
    [InlineData(RemoteFault.BlackHole)]
    [InlineData(RemoteFault.Dribble)]
    [InlineData(RemoteFault.TempFailEverything)]
    public async Task ABrokenRemoteDefersTheMessageAndItsLifetimeEndsInOneNotification(RemoteFault fault)
    {
        await using var remote = new FaultyRemote(fault);
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(["s"],
            FaultRig.Relaying(remote.Port, "QUEUE-LIFE-TIME:7", "OUT-TIMEOUT:1"));
        var (exit, swaks) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port}", "--from", "s@local.test", "--to", "r@far.test",
            "--helo", "client.test", "--header", "Subject: broken remote", "--body", "text line one\ntext line two\ntext line three\ntext line four\n"]);
        Assert.True(exit == 0, swaks);

        // Deferred, with the reason, while its life lasts.
        string queue = await Eventually.WaitAsync(async () =>
        {
            string q = await server.CtlAsync("d q smtp");
            return DeferredLine().IsMatch(q) ? q : null;
        }, "the message in QUEUE-DEFER on the console", TimeSpan.FromSeconds(10));
        Assert.Contains("<r@far.test>", queue);
        Assert.Contains("<s@local.test>", queue);

        string notification = Assert.Single(await Eventually.WaitAsync(() => Mailbox(server, "s") is { Length: > 0 } m ? m : null,
            "the lifetime notification", TimeSpan.FromSeconds(25)));
        await FaultRig.WaitForEmptyQueuesAsync(server, TimeSpan.FromSeconds(10));
        int attempts = remote.Connections;
        Assert.True(attempts >= 2, $"{attempts} attempt(s): the message should have been retried");
        if (fault == RemoteFault.DropMidData)
        {
            Assert.True(remote.TextLines >= 2, "the text had started when the connection dropped");
        }

        AssertText.ContainsAll(
            notification,
            "Subject: Undelivered Mail: message lifetime expired",
            "Final-Recipient: rfc822; r@far.test",
            "Status: 4.4.7",
            "Subject: broken remote");

        await Eventually.HoldsForAsync(() => Mailbox(server, "s").Length == 1, TimeSpan.FromSeconds(2), "one notification (a retry's own would show up by now)");
        Assert.Single(Mailbox(server, "s"));
        Assert.False(server.HasExited, server.Stderr);
        string counters = await server.CtlAsync("d s smtp");
        Assert.Equal(1, Counter(counters, "NOTIFY"));
        Assert.Equal(1, Counter(counters, "NOTIFY-LT"));
        Assert.Equal(1, Counter(counters, "EXT-FAIL"));
        Assert.Equal(0, Counter(counters, "EXT-SUCC"));
        server.DeleteWorkDir();
    }

    /// <summary>
    /// A reply dribbled one byte every 300 ms never ends a line late enough to trip an idle timer
    /// (each byte would reset it): the deadline is for the whole reply, so the attempt ends after
    /// OUT-TIMEOUT (2 s) with "no reply within 2 s", and the connection is closed.
    /// </summary>
    [Fact]
    public async Task ADribbledReplyStillEndsAtOutTimeout()
    {
        await using var remote = new FaultyRemote(RemoteFault.Dribble);
        using ServerProcess server = await ServerProcess.StartAsync(parameters: FaultRig.Relaying(remote.Port, "OUT-TIMEOUT:2", "MAIL-TRY-DELAY:600"));
        await SwaksAsync(server, "r@far.test");
        string queue = await Eventually.WaitAsync(async () =>
        {
            // Both at once: the attempt's error can show a moment before the message is in QUEUE-DEFER.
            string q = await server.CtlAsync("d q smtp");
            return q.Contains("no reply within 2 s", StringComparison.Ordinal) && DeferredLine().IsMatch(q) ? q : null;
        }, "the message deferred by the reply deadline", TimeSpan.FromSeconds(20));
        Assert.Single(DeferredLine().Matches(queue));
        await Eventually.WaitAsync(() => remote.Open == 0, "the dribbling connection closed by the client", TimeSpan.FromSeconds(10));
        Assert.Equal(1, remote.Connections);
        server.DeleteWorkDir();
    }

    /// <summary>
    /// Six messages for a black-holed relay server (it takes the connection and never says a
    /// word): the first OUT sessions wait OUT-TIMEOUT for a greeting, and then the host is in
    /// trouble until MAIL-TRY-DELAY has passed: the other messages are deferred at once with the
    /// reason, instead of each one holding an OUT channel for another OUT-TIMEOUT. At most as many
    /// connections as OUT sessions can run (SES-RESERVED-OUT 1 + half of the 2 shared channels).
    /// </summary>
    [Fact]
    public async Task ABlackHoledRelayServerHoldsOneOutSessionPerRetryNotOnePerMessage()
    {
        await using var remote = new FaultyRemote(RemoteFault.BlackHole);
        using ServerProcess server = await ServerProcess.StartAsync(parameters: FaultRig.Relaying(remote.Port,
            "OUT-TIMEOUT:2", "MAIL-TRY-DELAY:600", "SES-TOT:4", "SES-RESERVED-IN:1", "SES-RESERVED-OUT:1", "QUEUE-HOLD:YES"));
        for (int n = 1; n <= 6; n++)
        {
            await SwaksAsync(server, $"r{n}@far.test");
        }

        Assert.Contains("QUEUE-HOLD:NO set, in force now", await server.CtlAsync("s p smtp QUEUE-HOLD:NO"));
        string queue = await Eventually.WaitAsync(async () =>
        {
            string q = await server.CtlAsync("d q smtp");
            return DeferredLine().Matches(q).Count == 6 ? q : null;
        }, "all six messages in QUEUE-DEFER", TimeSpan.FromSeconds(30));
        Assert.True(remote.Connections <= 2, $"{remote.Connections} connections to the black hole: one per message instead of one per OUT session\n{queue}");
        Assert.Contains("no reply within 2 s", queue);
        Assert.Contains("not tried again before", queue);
        await Eventually.WaitAsync(() => remote.Open == 0, "every connection to the black hole closed", TimeSpan.FromSeconds(10));

        // retry q smtp tries the host again at once.
        Assert.Contains("6 message(s) moved to QUEUE-OUT", await server.CtlAsync("retry q smtp ALL"));
        await Eventually.WaitAsync(() => remote.Connections > 2 || remote.Open > 0, "a new connection after retry q smtp", TimeSpan.FromSeconds(10));
        server.DeleteWorkDir();
    }

    /// <summary>
    /// While every OUT session hangs on a black-holed relay server (OUT-TIMEOUT 60 s) and more mail
    /// waits for it, the channels kept for incoming mail still take mail: SES-TOT 4 with one
    /// reserved IN and one reserved OUT channel gives the OUT side at most 2 (its reserved one and
    /// half of the 2 shared ones), so one client can sit on the reserved IN channel and another
    /// still sends mail on the last shared one; a third is refused (every channel busy, 421 4.3.2).
    /// </summary>
    [Fact]
    public async Task InboundChannelsStayUsableWhileEveryOutSessionIsStuck()
    {
        await using var remote = new FaultyRemote(RemoteFault.BlackHole);
        using ServerProcess server = await ServerProcess.StartAsync(parameters: FaultRig.Relaying(remote.Port,
            "OUT-TIMEOUT:60", "SES-TOT:4", "SES-RESERVED-IN:1", "SES-RESERVED-OUT:1", "MAX-IP-SES:10"));
        for (int n = 1; n <= 4; n++)
        {
            await SwaksAsync(server, $"r{n}@far.test");
        }

        await Eventually.WaitAsync(() => remote.Open == 2, "two OUT sessions stuck on the black hole", TimeSpan.FromSeconds(20));
        string state = await server.CtlAsync("d de smtp");
        Assert.Equal(2, Regex.Matches(state, @"\bOUT\b.*\b(WAITCONN|START)\b").Count);

        await using (SmtpTestClient sitting = await SmtpTestClient.ConnectGreetedAsync(server.Port))
        {
            await SwaksAsync(server, "r5@far.test");
            await using (SmtpTestClient second = await SmtpTestClient.ConnectGreetedAsync(server.Port))
            {
                await using SmtpTestClient third = await SmtpTestClient.ConnectAsync(server.Port);
                Assert.StartsWith("421 4.3.2 Error: no channel available", await third.ReadReplyAsync());
            }

            Assert.StartsWith("250", await sitting.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await sitting.CommandAsync("MAIL FROM:<s@client.test>"));
            Assert.StartsWith("250", await sitting.CommandAsync("RCPT TO:<r6@far.test>"));
            Assert.StartsWith("354", await sitting.CommandAsync("DATA"));
            Assert.StartsWith("250 2.0.0", await sitting.CommandAsync("Subject: in\r\n\r\nwhile OUT is stuck\r\n."));
        }

        Assert.Equal(2, remote.Open);
        Assert.Equal(2, remote.Connections);
        Assert.False(server.HasExited, server.Stderr);
        server.DeleteWorkDir();
    }

    private static async Task SwaksAsync(ServerProcess server, string to)
    {
        var (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port}", "--from", "s@local.test", "--to", to,
            "--helo", "client.test", "--header", "Subject: to a stuck remote", "--body", "text\n"]);
        Assert.True(exit == 0, output);
    }

    private static string[] Mailbox(ServerProcess server, string name)
    {
        string dir = Path.Combine(server.WorkDir, "data", "mailboxes", name, "new");
        return Directory.Exists(dir) ? [.. Directory.GetFiles(dir).Select(File.ReadAllText)] : [];
    }

    /// <summary>The OUT column of one counter row of <c>d s smtp</c>.</summary>
    private static long Counter(string output, string name)
    {
        Match m = Regex.Match(output, @"\b" + Regex.Escape(name) + @" *\|([ 0-9]{11})\|([ 0-9]{11})\|");
        Assert.True(m.Success, $"{name} in {output}");
        string cell = m.Groups[2].Value.Trim();
        return cell.Length == 0 ? 0 : long.Parse(cell, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"\n +[0-9A-F]{8} DEFER ")]
    private static partial Regex DeferredLine();
}
