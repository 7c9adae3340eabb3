using static AbilisFast.Server.Tests.Support.LoopbackServers;

namespace AbilisFast.Server.Tests.Loopback;

/// <summary>The in-process server over real loopback sockets: channels, access rules, timeouts.</summary>
public sealed class LoopbackServerTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task ATransactionSentInTinyChunksIsQueued(int chunk)
    {
        await using LoopbackServer loopback = await StartAsync();
        var (context, server) = loopback;
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.LocalEndPoint!.Port);
        Assert.StartsWith("220 mx.test ESMTP", await client.ReadReplyAsync());
        await client.SendAsync("EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@local.test>\r\nDATA\r\n", chunk);
        Assert.StartsWith("250-mx.test", await client.ReadReplyAsync());
        Assert.Equal("250 2.1.0 Ok", await client.ReadReplyAsync());
        Assert.Equal("250 2.1.5 Ok", await client.ReadReplyAsync());
        Assert.StartsWith("354", await client.ReadReplyAsync());
        await client.SendAsync("Subject: chunks\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n", chunk);
        Assert.StartsWith("250 2.0.0 Ok: queued as ", await client.ReadReplyAsync());
        Assert.Equal("221 2.0.0 Bye", await client.ReadReplyAsync());
        Assert.True(await client.IsClosedAsync());
        Assert.EndsWith("Subject: chunks\r\n\r\n.dot\r\nbody\r\n", Assert.Single(context.Stored()).Body);
        Assert.Equal(1, context.Context.Counters.Get(SmtpCounter.CallSucc, Direction.In));
    }

    [Fact]
    public async Task NoFreeChannelGets421AndCountsCallFail()
    {
        await using LoopbackServer loopback = await StartAsync("SES-TOT:2", "SES-RESERVED-IN:1", "SES-RESERVED-OUT:1", "MAX-IP-SES:5");
        var (context, server) = loopback;
        await using SmtpTestClient first = await SmtpTestClient.ConnectGreetedAsync(server.LocalEndPoint!.Port);

        // Inside a mail transaction: never closed to make room, however slow this machine is.
        Assert.StartsWith("250", await first.CommandAsync("EHLO client.test"));
        Assert.StartsWith("250", await first.CommandAsync("MAIL FROM:<a@client.test>"));
        await using SmtpTestClient second = await SmtpTestClient.ConnectAsync(server.LocalEndPoint!.Port);
        Assert.Equal("421 4.3.2 Error: no channel available, try again later", await second.ReadReplyAsync());
        Assert.True(await second.IsClosedAsync());
        Assert.Equal(1, context.Context.Counters.Get(SmtpCounter.CallFail, Direction.In));

        // The reserved OUT channel stays free for delivery; the IN one is busy.
        Assert.Equal(1, context.Context.Channels.ActiveResIn);
        Assert.Equal(0, context.Context.Channels.ActiveResOut);
    }

    [Fact]
    public async Task MaxIpSesLimitsSessionsPerAddress()
    {
        await using LoopbackServer loopback = await StartAsync("MAX-IP-SES:1");
        var (context, server) = loopback;
        int port = server.LocalEndPoint!.Port;
        await using SmtpTestClient first = await SmtpTestClient.ConnectGreetedAsync(port);
        await using SmtpTestClient second = await SmtpTestClient.ConnectAsync(port);
        Assert.Equal("421 4.7.0 Error: too many connections from your address", await second.ReadReplyAsync());
        Assert.Equal(1, context.Context.Counters.Get(SmtpCounter.CallFail, Direction.In));

        // Another loopback address is another client.
        await using SmtpTestClient other = await SmtpTestClient.ConnectAsync(port, source: IPAddress.Parse("127.0.0.2"));
        Assert.StartsWith("220 ", await other.ReadReplyAsync());
        Assert.Equal("221 2.0.0 Bye", await first.CommandAsync("QUIT"));
        Assert.True(await first.IsClosedAsync());
        await using SmtpTestClient third = await SmtpTestClient.ConnectGreetedAsync(port);
    }

    [Fact]
    public async Task AThirdSimultaneousSessionAtTheDefaultMaxIpSesGets421AfterTheWait()
    {
        await using LoopbackServer loopback = await StartAsync();
        var (context, server) = loopback;
        int port = server.LocalEndPoint!.Port;
        Assert.Equal(2, context.Settings.MaxIpSes);
        await using SmtpTestClient first = await SmtpTestClient.ConnectGreetedAsync(port);
        await using SmtpTestClient second = await SmtpTestClient.ConnectGreetedAsync(port);

        // Neither place is given back within the wait (1 s): the third is refused, and counted.
        long started = Environment.TickCount64;
        await using SmtpTestClient third = await SmtpTestClient.ConnectAsync(port);
        Assert.Equal("421 4.7.0 Error: too many connections from your address", await third.ReadReplyAsync());
        Assert.True(Environment.TickCount64 - started >= 900, "refused before the admission wait ran out");
        Assert.True(await third.IsClosedAsync());
        Assert.Equal(1, context.Context.Counters.Get(SmtpCounter.CallFail, Direction.In));
        Assert.Equal(2, context.Context.Counters.Get(SmtpCounter.CallSucc, Direction.In));
        Assert.Equal("250 2.0.0 Ok", await first.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task AWaitingConnectionTakesThePlaceASessionGivesBack()
    {
        await using LoopbackServer loopback = await StartAsync();
        var (context, server) = loopback;
        server.AdmissionWait = TimeSpan.FromSeconds(60);
        int port = server.LocalEndPoint!.Port;
        await using SmtpTestClient first = await SmtpTestClient.ConnectGreetedAsync(port);
        await using SmtpTestClient second = await SmtpTestClient.ConnectGreetedAsync(port);
        await using SmtpTestClient third = await SmtpTestClient.ConnectAsync(port);
        Task<string?> greeting = third.ReadReplyAsync(TimeSpan.FromSeconds(60));
        await Eventually.HoldsForAsync(() => !greeting.IsCompleted, TimeSpan.FromMilliseconds(200), "no greeting for the third while both places are held");
        Assert.False(greeting.IsCompleted, "the third got a reply while both places were held");

        Assert.Equal("221 2.0.0 Bye", await first.CommandAsync("QUIT"));
        Assert.StartsWith("220 ", await greeting);
        Assert.Equal(0, context.Context.Counters.Get(SmtpCounter.CallFail, Direction.In));
        Assert.Equal(3, context.Context.Counters.Get(SmtpCounter.CallSucc, Direction.In));
    }

    /// <summary>
    /// Without any admission wait, a client that reads the 221 and reconnects at once always finds
    /// its place and a channel free: both are given back before the 221 is sent. Two such clients at
    /// the default MAX-IP-SES:2 and SES-TOT:10.
    /// </summary>
    [Fact]
    public async Task AClientThatQuitsAndReconnectsAtOnceFindsItsPlaceFreeEvenWithoutWaiting()
    {
        await using LoopbackServer loopback = await StartAsync();
        var (context, server) = loopback;
        server.AdmissionWait = TimeSpan.Zero;
        int port = server.LocalEndPoint!.Port;

        // By the time the client holds the 221, the channel is idle again: no waiting, no race.
        await using (SmtpTestClient alone = await SmtpTestClient.ConnectGreetedAsync(port))
        {
            Assert.Equal(1, context.Context.Channels.Active);
            Assert.Equal("221 2.0.0 Bye", await alone.CommandAsync("QUIT"));
            Assert.Equal(0, context.Context.Channels.Active);
            Assert.True(context.Context.Channels.Channels.All(c => !c.IsBusy));
        }

        const int PerClient = 150;
        ConcurrentBag<string?> refused = await ReconnectAtOnceAsync(port, PerClient, quit: true);

        Assert.True(refused.IsEmpty, $"{refused.Count} refused, e.g. {refused.FirstOrDefault()}");
        Assert.Equal(0, context.Context.Counters.Get(SmtpCounter.CallFail, Direction.In));
        Assert.Equal(1 + (2 * PerClient), context.Context.Counters.Get(SmtpCounter.CallSucc, Direction.In));
    }

    /// <summary>
    /// A client that just closes (no QUIT) and reconnects at once can be faster than the server
    /// noticing the close; the admission wait covers that. Without it about 4 in 10 of these
    /// connections were refused (measured with a python3 socket loop, 600 connections).
    /// </summary>
    [Fact]
    public async Task AClientThatDropsAndReconnectsAtOnceIsServedThanksToTheWait()
    {
        await using LoopbackServer loopback = await StartAsync();
        var (context, server) = loopback;
        int port = server.LocalEndPoint!.Port;
        ConcurrentBag<string?> refused = await ReconnectAtOnceAsync(port, perClient: 150, quit: false);

        Assert.True(refused.IsEmpty, $"{refused.Count} refused, e.g. {refused.FirstOrDefault()}");
        Assert.Equal(0, context.Context.Counters.Get(SmtpCounter.CallFail, Direction.In));
    }

    [Fact]
    public async Task AddressesOutsideIpsrcAreDenied()
    {
        await using LoopbackServer loopback = await StartAsync("IPSRC:127.0.0.9", "IPSRCLIST:#");
        var (context, server) = loopback;
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.LocalEndPoint!.Port);
        Assert.Equal("554 5.7.1 Error: access denied", await client.ReadReplyAsync());
        Assert.True(await client.IsClosedAsync());
        Assert.Equal(1, context.Context.Counters.Get(SmtpCounter.DeniedIp, Direction.In));
        Assert.Equal(0, context.Context.Counters.Get(SmtpCounter.CallSucc, Direction.In));
    }

    [Fact]
    public async Task IdleSessionsAreDroppedAfterDt()
    {
        await using LoopbackServer loopback = await StartAsync("DT:1");
        var (context, server) = loopback;
        await using SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(server.LocalEndPoint!.Port);
        // A slow sender: bytes trickle in but no whole line ever arrives.
        await client.SendAsync("NO");
        Assert.Equal("421 4.4.2 Error: timeout exceeded", await client.ReadReplyAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task TalkingBeforeTheGreetingIsRefused()
    {
        await using LoopbackServer loopback = await StartAsync();
        var (context, server) = loopback;
        var sent = new TaskCompletionSource();
        server.BeforeGreeting = async () =>
        {
            await sent.Task.WaitAsync(TimeSpan.FromSeconds(10));
            // Nothing on this side shows when the server's socket holds the bytes: give them the time.
            await Eventually.LetTimePassAsync(TimeSpan.FromMilliseconds(50), "the bytes cross loopback");
        };
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.LocalEndPoint!.Port);
        await client.SendAsync("EHLO impatient.test\r\n");
        sent.SetResult();
        Assert.Equal("554 5.5.1 Error: client sent data before the greeting", await client.ReadReplyAsync());
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task IdleConnectionsHoldNoReceiveBuffer()
    {
        using var test = new TestServerContext("LOCAL-DOMAIN:local.test", "SES-TOT:40", "MAX-IP-SES:40");
        var pool = new CountingMemoryPool();
        var context = new SmtpContext(test.Settings, test.Log, test.Spool) { BufferPool = pool };
        await using var server = new SmtpListener(context);
        server.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await using var clients = new SmtpClientList();
        for (int i = 0; i < 30; i++)
        {
            SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.LocalEndPoint!.Port);
            clients.Add(client);
            Assert.StartsWith("220 ", await client.ReadReplyAsync());
            Assert.StartsWith("250-", await client.CommandAsync("EHLO idle.test"));
        }

        // 30 sessions wait for their next command; none of them holds a pooled buffer.
        Assert.Equal(30, context.Channels.Active);
        Assert.Equal(0, pool.Outstanding);

        // A partial line in flight does hold one (it must be kept until the line completes).
        await clients[0].SendAsync("NO");
        await Eventually.WaitAsync(() => pool.Outstanding != 0, "a pooled buffer for the partial line", TimeSpan.FromSeconds(5));

        Assert.Equal(1, pool.Outstanding);
        await clients[0].SendAsync("OP\r\n");
        Assert.Equal("250 2.0.0 Ok", await clients[0].ReadReplyAsync());
    }

    private sealed class FixedBanList(IPAddress banned) : AbilisFast.Server.Access.IBanList
    {
        public bool IsBanned(IPAddress address) => address.Equals(banned);

        public void RecordFailure(IPAddress address, string what)
        {
        }
    }

    [Fact]
    public async Task BannedAddressesAreDroppedAtAccept()
    {
        using var test = new TestServerContext("LOCAL-DOMAIN:local.test");
        await using var server = new SmtpListener(test.Context, new FixedBanList(IPAddress.Parse("127.0.0.3")));
        server.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await using SmtpTestClient banned = await SmtpTestClient.ConnectAsync(server.LocalEndPoint!.Port, source: IPAddress.Parse("127.0.0.3"));
        Assert.Null(await banned.ReadReplyAsync());
        Assert.Equal(1, test.Context.Counters.Get(SmtpCounter.BannedIp, Direction.In));
        await using SmtpTestClient other = await SmtpTestClient.ConnectAsync(server.LocalEndPoint!.Port, source: IPAddress.Parse("127.0.0.4"));
        Assert.StartsWith("220 ", await other.ReadReplyAsync());
        Assert.Equal(1, test.Context.Counters.Get(SmtpCounter.CallSucc, Direction.In));
    }

    [Fact]
    public async Task TheDefaultListenerTakesIPv4AndIPv6Loopback()
    {
        int port = ServerProcess.FreePort();
        using var test = new TestServerContext("LOCAL-DOMAIN:local.test", $"TCP-LOCPORT:{port}");
        await using var server = new SmtpListener(test.Context);
        server.Start();
        await using SmtpTestClient v4 = await SmtpTestClient.ConnectAsync(port, IPAddress.Loopback);
        Assert.StartsWith("220 ", await v4.ReadReplyAsync());
        await using SmtpTestClient v6 = await SmtpTestClient.ConnectAsync(port, IPAddress.IPv6Loopback);
        Assert.StartsWith("220 ", await v6.ReadReplyAsync());
        await v6.SendQueuedAsync("a@client.test", "b@local.test", "over v6\r\n");
        Assert.Contains("Received: from unknown ([IPv6:::1])\r\n", Assert.Single(test.Stored()).Body);

        // The IPv4 client reaches the dual-stack socket as ::ffff:127.0.0.1 and is shown as IPv4.
        await v4.SendQueuedAsync("a@client.test", "b@local.test", "over v4\r\n");
        Assert.Contains(test.Stored(), m => m.Body.StartsWith("Received: from unknown ([127.0.0.1])\r\n", StringComparison.Ordinal));
        Assert.Contains(test.Log.ReadLines(), l => l.Contains("Start in-bound session from [127.0.0.1]:", StringComparison.Ordinal));
        Assert.Contains(test.Log.ReadLines(), l => l.Contains("Start in-bound session from [IPv6:::1]:", StringComparison.Ordinal));
        Assert.DoesNotContain(test.Log.ReadLines(), l => l.Contains("::ffff:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ActNoAcceptsNoConnections()
    {
        int port = ServerProcess.FreePort();
        using var test = new TestServerContext("ACT:NO", $"TCP-LOCPORT:{port}");
        await using var server = new SmtpListener(test.Context);
        server.Start(new IPEndPoint(IPAddress.Loopback, port));
        Assert.False(server.IsListening);
        Assert.All(test.Context.Channels.Channels, c => Assert.Equal(AbilisFast.Protocol.States.SmtpState.Inactive, c.SmtpState));
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => SmtpTestClient.ConnectAsync(port));
    }

    [Fact]
    public async Task ChannelsAreNumberedAsTheConsoleShowsThem()
    {
        await using LoopbackServer loopback = await StartAsync();
        var (context, server) = loopback;
        var channels = context.Context.Channels.Channels;
        Assert.Equal(10, channels.Count);
        Assert.All(channels.Take(2), c => Assert.Equal(("OUT", "READY", "READY"), (c.Direction == Direction.Out ? "OUT" : "IN", AbilisFast.Protocol.States.StateNames.Label(c.TcpState), AbilisFast.Protocol.States.StateNames.Label(c.SmtpState))));
        Assert.All(channels.Skip(2), c => Assert.Equal(("IN", "LISTEN", "READY"), (c.Direction == Direction.Out ? "OUT" : "IN", AbilisFast.Protocol.States.StateNames.Label(c.TcpState), AbilisFast.Protocol.States.StateNames.Label(c.SmtpState))));
        Assert.Contains(context.Log.ReadLines(), l => l.EndsWith("[PORT] Starting server...", StringComparison.Ordinal));
        Assert.Contains(context.Log.ReadLines(), l => l.EndsWith("[  9] Waiting events (listen or wake-up)", StringComparison.Ordinal));
    }

    /// <summary>
    /// Two clients side by side, each connecting <paramref name="perClient"/> times in a row, at once
    /// after the last connection ended: after QUIT and its 221 (each checked) or by just closing.
    /// Returns the greetings that were not 220 (empty when every connection was served).
    /// </summary>
    private static async Task<ConcurrentBag<string?>> ReconnectAtOnceAsync(int port, int perClient, bool quit)
    {
        var refused = new ConcurrentBag<string?>();
        await Parallel.ForAsync(0, 2, async (_, _) =>
        {
            for (int i = 0; i < perClient; i++)
            {
                await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(port);
                string? greeting = await client.ReadReplyAsync();
                if (greeting?.StartsWith("220 ", StringComparison.Ordinal) != true)
                {
                    refused.Add(greeting);
                }
                else if (quit)
                {
                    Assert.Equal("221 2.0.0 Bye", await client.CommandAsync("QUIT"));
                }
            }
        });

        return refused;
    }
}
