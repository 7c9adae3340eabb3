namespace AbilisFast.Server.Tests.Hostile;

/// <summary>
/// The junk-command limit (JUNK-CMD-LIMIT, Postfix's smtpd_junk_command_limit) and the server under
/// stress, over loopback sockets against the in-process listener.
/// </summary>
public sealed class JunkAndStressTests
{
    private static string Pipelined(string command, int count) => string.Concat(Enumerable.Repeat(command + "\r\n", count));

    [Fact]
    public async Task PastOneHundredJunkCommandsEachCountsAsAnErrorUntilTheSessionEnds()
    {
        await using LoopbackServer loopback = await LoopbackServer.StartAsync();
        SmtpListener server = loopback.Listener;
        await using SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(server.LocalEndPoint!.Port);

        // 100 junk commands of all four kinds are answered as usual.
        await client.SendAsync(Pipelined("NOOP", 40) + Pipelined("RSET", 20) + Pipelined("VRFY someone", 20) + Pipelined("HELP", 20));
        for (int i = 0; i < 100; i++)
        {
            Assert.Matches("^(250|252|214)", await client.ReadReplyAsync());
        }

        // An accepted message starts the count again.
        await client.SendQueuedAsync("a@client.test", "u@local.test", "hello\r\n");
        await client.SendAsync(Pipelined("NOOP", 100));
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal("250 2.0.0 Ok", await client.ReadReplyAsync());
        }

        // Each one past the limit is still answered, and counts as an error: the 20th ends the session.
        await client.SendAsync(Pipelined("NOOP", 19));
        for (int i = 0; i < 19; i++)
        {
            Assert.Equal("250 2.0.0 Ok", await client.ReadReplyAsync());
        }

        Assert.Equal("250 2.0.0 Ok", await client.CommandAsync("NOOP"));
        Assert.Equal("421 4.7.0 Error: too many errors", await client.ReadReplyAsync());
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task JunkCmdLimitIsAParameter()
    {
        await using LoopbackServer loopback = await LoopbackServer.StartAsync("JUNK-CMD-LIMIT:2");
        SmtpListener server = loopback.Listener;
        await using SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(server.LocalEndPoint!.Port);
        await client.SendAsync(Pipelined("NOOP", 21));
        for (int i = 0; i < 21; i++)
        {
            Assert.Equal("250 2.0.0 Ok", await client.ReadReplyAsync());
        }

        Assert.Equal("250 2.0.0 Ok", await client.CommandAsync("NOOP"));
        Assert.Equal("421 4.7.0 Error: too many errors", await client.ReadReplyAsync());
    }

    /// <summary>
    /// Two channels held by sessions inside a mail transaction (never shed) that have sent one NOOP
    /// each. A third connection finds no channel: stress. Under stress the second junk command of a
    /// session is answered 421 4.7.0 and its channel is free.
    /// </summary>
    [Fact]
    public async Task UnderStressTheSecondJunkCommandCloses()
    {
        await using LoopbackServer loopback = await LoopbackServer.StartAsync("SES-TOT:2", "SES-RESERVED-IN:0", "SES-RESERVED-OUT:0", "MAX-IP-SES:10");
        var (context, server) = loopback;
        await using var holders = new SmtpClientList();
        int port = server.LocalEndPoint!.Port;
        for (int i = 0; i < 2; i++)
        {
            SmtpTestClient holder = await HoldInTransactionAsync(holders, port);
            Assert.Equal("250 2.0.0 Ok", await holder.CommandAsync("NOOP"));
        }

        Assert.False(server.Stress.IsActive);
        await using (SmtpTestClient refused = await SmtpTestClient.ConnectAsync(port))
        {
            Assert.Equal("421 4.3.2 Error: no channel available, try again later", await refused.ReadReplyAsync(TimeSpan.FromSeconds(30)));
        }

        Assert.True(server.Stress.IsActive);
        Assert.Equal("421 4.7.0 Error: too many NOOP/RSET/VRFY/HELP commands while all channels are busy", await holders[0].CommandAsync("NOOP"));
        Assert.True(await holders[0].IsClosedAsync());
        Assert.Equal(1, context.Context.Timeouts.JunkClosed.Value);
        Assert.Contains("Closed: NOOP/RSET/VRFY/HELP while every channel is busy", context.Log.SnapshotText());

        // A useful command is answered as ever.
        Assert.Equal("250 2.1.5 Ok", await holders[1].CommandAsync("RCPT TO:<u@local.test>"));
    }

    /// <summary>
    /// Three channels held by silent sessions inside a mail transaction, DT 120 s. A client that
    /// finds no channel and tries again every second, as a retrying MTA would, keeps the server
    /// under stress, where DT is 10 s: the silent ones get 421 4.4.2 and the client is served well
    /// before DT (a deadline of 60 s, not a measurement).
    /// </summary>
    [Fact]
    public async Task UnderStressDtIsTenSeconds()
    {
        await using LoopbackServer loopback = await LoopbackServer.StartAsync("SES-TOT:3", "SES-RESERVED-IN:0", "SES-RESERVED-OUT:0", "MAX-IP-SES:10", "DT:120");
        var (context, server) = loopback;
        await using var holders = new SmtpClientList();
        int port = server.LocalEndPoint!.Port;
        for (int i = 0; i < 3; i++)
        {
            await HoldInTransactionAsync(holders, port);
        }

        SmtpTestClient? served = null;
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (served is null && DateTime.UtcNow < deadline)
        {
            SmtpTestClient attempt = await SmtpTestClient.ConnectAsync(port);
            string? greeting = await attempt.ReadReplyAsync(TimeSpan.FromSeconds(30));
            if (greeting?.StartsWith("220 ", StringComparison.Ordinal) == true)
            {
                served = attempt;
                break;
            }

            Assert.Equal("421 4.3.2 Error: no channel available, try again later", greeting);
            await attempt.DisposeAsync();
            await Eventually.LetTimePassAsync(TimeSpan.FromSeconds(1), "a retrying client waits before it connects again");
        }

        Assert.NotNull(served);
        await using (served)
        {
            Assert.StartsWith("250-", await served.CommandAsync("EHLO client.test"));
        }

        Assert.Equal("421 4.4.2 Error: timeout exceeded", await holders[0].ReadReplyAsync(TimeSpan.FromSeconds(30)));
        Assert.True(context.Context.Timeouts.Idle.Value >= 1);
    }

    /// <summary>
    /// Idle sessions (nothing useful for two seconds, outside a transaction) give their channel to a
    /// waiting connection at once, oldest first; a session in the middle of a transaction keeps its channel.
    /// </summary>
    [Fact]
    public async Task AWaitingConnectionGetsTheChannelOfTheOldestIdleSession()
    {
        await using LoopbackServer loopback = await LoopbackServer.StartAsync("SES-TOT:3", "SES-RESERVED-IN:0", "SES-RESERVED-OUT:0", "MAX-IP-SES:10");
        var (context, server) = loopback;
        server.AdmissionWait = TimeSpan.FromSeconds(30);
        await using var holders = new SmtpClientList();
        int port = server.LocalEndPoint!.Port;
        foreach (string step in new[] { "busy", "idle-old", "idle-new" })
        {
            SmtpTestClient holder = await SmtpTestClient.ConnectAsync(port);
            holders.Add(holder);
            Assert.StartsWith("220 ", await holder.ReadReplyAsync());
            Assert.StartsWith("250-", await holder.CommandAsync("EHLO " + step + ".test"));
            if (step == "busy")
            {
                Assert.Equal("250 2.1.0 Ok", await holder.CommandAsync("MAIL FROM:<h@client.test>"));
            }
        }

        // Wait until the idle ones qualify (2 s without a useful command), then connect.
        await Eventually.LetTimePassAsync(ChannelStress.ShedAfter + TimeSpan.FromMilliseconds(200), "a session is idle only after ShedAfter without a useful command");
        await using SmtpTestClient waiting = await SmtpTestClient.ConnectAsync(port);
        Assert.StartsWith("220 ", await waiting.ReadReplyAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("421 4.3.2 Error: all channels busy, closing idle session, try again later", await holders[1].ReadReplyAsync());
        Assert.True(await holders[1].IsClosedAsync());
        Assert.Equal(1, context.Context.Timeouts.Shed.Value);

        // The one inside a transaction and the newer idle one go on.
        Assert.Equal("250 2.1.5 Ok", await holders[0].CommandAsync("RCPT TO:<u@local.test>"));
        Assert.Equal("250 2.0.0 Ok", await holders[2].CommandAsync("NOOP"));
        Assert.Contains("Closed: idle while every channel is busy", context.Log.SnapshotText());
    }

    /// <summary>A session that holds a channel inside a mail transaction (EHLO, MAIL FROM), kept in <paramref name="holders"/>.</summary>
    private static async Task<SmtpTestClient> HoldInTransactionAsync(SmtpClientList holders, int port)
    {
        SmtpTestClient holder = await SmtpTestClient.ConnectAsync(port);
        holders.Add(holder);
        Assert.StartsWith("220 ", await holder.ReadReplyAsync());
        Assert.StartsWith("250-", await holder.CommandAsync("EHLO holder.test"));
        Assert.Equal("250 2.1.0 Ok", await holder.CommandAsync("MAIL FROM:<h@client.test>"));
        return holder;
    }
}
