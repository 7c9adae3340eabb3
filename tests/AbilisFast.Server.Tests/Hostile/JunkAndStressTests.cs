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
        var (context, server) = await LoopbackServers.StartAsync();
        try
        {
            await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.LocalEndPoint!.Port);
            Assert.StartsWith("220 ", await client.ReadReplyAsync());
            Assert.StartsWith("250-", await client.CommandAsync("EHLO client.test"));

            // 100 junk commands of all four kinds are answered as usual.
            await client.SendAsync(Pipelined("NOOP", 40) + Pipelined("RSET", 20) + Pipelined("VRFY someone", 20) + Pipelined("HELP", 20));
            for (int i = 0; i < 100; i++)
            {
                Assert.Matches("^(250|252|214)", await client.ReadReplyAsync());
            }

            // An accepted message starts the count again.
            Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<a@client.test>"));
            Assert.Equal("250 2.1.5 Ok", await client.CommandAsync("RCPT TO:<u@local.test>"));
            Assert.StartsWith("354 ", await client.CommandAsync("DATA"));
            Assert.StartsWith("250 2.0.0 Ok: queued as", await client.CommandAsync("hello\r\n."));
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
        finally
        {
            await LoopbackServers.StopAsync(context, server);
        }
    }

    [Fact]
    public async Task JunkCmdLimitIsAParameter()
    {
        var (context, server) = await LoopbackServers.StartAsync("JUNK-CMD-LIMIT:2");
        try
        {
            await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.LocalEndPoint!.Port);
            Assert.StartsWith("220 ", await client.ReadReplyAsync());
            await client.SendAsync(Pipelined("NOOP", 21));
            for (int i = 0; i < 21; i++)
            {
                Assert.Equal("250 2.0.0 Ok", await client.ReadReplyAsync());
            }

            Assert.Equal("250 2.0.0 Ok", await client.CommandAsync("NOOP"));
            Assert.Equal("421 4.7.0 Error: too many errors", await client.ReadReplyAsync());
        }
        finally
        {
            await LoopbackServers.StopAsync(context, server);
        }
    }

    /// <summary>
    /// Two channels held by sessions inside a mail transaction (never shed) that have sent one NOOP
    /// each. A third connection finds no channel: stress. Under stress the second junk command of a
    /// session is answered 421 4.7.0 and its channel is free.
    /// </summary>
    [Fact]
    public async Task UnderStressTheSecondJunkCommandCloses()
    {
        var (context, server) = await LoopbackServers.StartAsync("SES-TOT:2", "SES-RESERVED-IN:0", "SES-RESERVED-OUT:0", "MAX-IP-SES:10");
        var holders = new List<SmtpTestClient>();
        try
        {
            int port = server.LocalEndPoint!.Port;
            for (int i = 0; i < 2; i++)
            {
                SmtpTestClient holder = await SmtpTestClient.ConnectAsync(port);
                holders.Add(holder);
                Assert.StartsWith("220 ", await holder.ReadReplyAsync());
                Assert.StartsWith("250-", await holder.CommandAsync("EHLO holder.test"));
                Assert.Equal("250 2.1.0 Ok", await holder.CommandAsync("MAIL FROM:<h@client.test>"));
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
        finally
        {
            foreach (SmtpTestClient holder in holders)
            {
                await holder.DisposeAsync();
            }

            await LoopbackServers.StopAsync(context, server);
        }
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
        var (context, server) = await LoopbackServers.StartAsync("SES-TOT:3", "SES-RESERVED-IN:0", "SES-RESERVED-OUT:0", "MAX-IP-SES:10", "DT:120");
        var holders = new List<SmtpTestClient>();
        try
        {
            int port = server.LocalEndPoint!.Port;
            for (int i = 0; i < 3; i++)
            {
                SmtpTestClient holder = await SmtpTestClient.ConnectAsync(port);
                holders.Add(holder);
                Assert.StartsWith("220 ", await holder.ReadReplyAsync());
                Assert.StartsWith("250-", await holder.CommandAsync("EHLO holder.test"));
                Assert.Equal("250 2.1.0 Ok", await holder.CommandAsync("MAIL FROM:<h@client.test>"));
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
        finally
        {
            foreach (SmtpTestClient holder in holders)
            {
                await holder.DisposeAsync();
            }

            await LoopbackServers.StopAsync(context, server);
        }
    }

    /// <summary>
    /// Idle sessions (nothing useful for two seconds, outside a transaction) give their channel to a
    /// waiting connection at once, oldest first; a session in the middle of a transaction keeps its channel.
    /// </summary>
    [Fact]
    public async Task AWaitingConnectionGetsTheChannelOfTheOldestIdleSession()
    {
        var (context, server) = await LoopbackServers.StartAsync("SES-TOT:3", "SES-RESERVED-IN:0", "SES-RESERVED-OUT:0", "MAX-IP-SES:10");
        server.AdmissionWait = TimeSpan.FromSeconds(30);
        var holders = new List<SmtpTestClient>();
        try
        {
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
        finally
        {
            foreach (SmtpTestClient holder in holders)
            {
                await holder.DisposeAsync();
            }

            await LoopbackServers.StopAsync(context, server);
        }
    }
}
