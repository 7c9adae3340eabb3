using AbilisFast.Server.Channels;

namespace AbilisFast.Server.Tests.Allocation;

/// <summary>
/// What a session that said EHLO and then waits (a phone, an IoT device, a slow client) keeps in
/// memory, and what a configured SES-TOT channel costs before any client comes. Live managed bytes
/// of the whole test process, so these run alone (see <see cref="FootprintCollection"/>).
/// </summary>
[Collection(FootprintCollection.Name)]
public sealed class IdleSessionFootprintTests
{
    /// <summary>
    /// N loopback clients connect, read the 220, send EHLO, read the 250 and wait. The clients are
    /// plain blocking sockets in this process (a few hundred bytes each: the socket, its handle and
    /// end points), so the figure is both ends of each connection; the server's share was about 3.0 KB
    /// when this test was written (6.2 KB before: a 1 KiB envelope buffer, a 512-byte HELO buffer, a
    /// stream, a token source and two state machines per pending read, 2.2 KB of padded counters
    /// per channel).
    /// </summary>
    [Fact]
    public async Task AnIdleSessionAfterEhloKeepsLittleMemory()
    {
        const int Count = 400;
        var pool = new CountingMemoryPool();
        using var test = new TestServerContext("LOCAL-DOMAIN:local.test", $"SES-TOT:{Count + 30}", $"MAX-IP-SES:{Count + 20}", "DT:600");
        var context = new SmtpContext(test.Settings, test.Log, test.Spool) { BufferPool = pool };
        await using var server = new SmtpListener(context);
        server.Start(new IPEndPoint(IPAddress.Loopback, 0));
        var clients = new List<Socket>();
        try
        {
            // Warm-up: the first sessions make what every later one shares (pools, caches, the socket engine).
            for (int i = 0; i < 20; i++)
            {
                clients.Add(OpenIdle(server.LocalEndPoint!.Port));
            }

            await Eventually.WaitAsync(() => context.Channels.Active == 20 && pool.Outstanding == 0, "20 warm-up sessions waiting after EHLO, no pooled buffer held");
            long before = GC.GetTotalMemory(forceFullCollection: true);
            for (int i = 0; i < Count; i++)
            {
                clients.Add(OpenIdle(server.LocalEndPoint!.Port));
            }

            try
            {
                await Eventually.WaitAsync(() => context.Channels.Active == Count + 20 && pool.Outstanding == 0, $"{Count + 20} sessions waiting after EHLO, no pooled buffer held");
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}: active {context.Channels.Active}, outstanding {pool.Outstanding}", e);
            }
            long after = GC.GetTotalMemory(forceFullCollection: true);
            long perSession = (after - before) / Count;

            // No idle session holds a pooled buffer (zero-byte receives; the send block goes back after each flush).
            Assert.Equal(0, pool.Outstanding);
            // The target is 4 KB per idle session; this counts both ends of each connection, and
            // GC.GetTotalMemory moves by a few hundred bytes per session between runs (3,600 to 3,930 seen).
            Assert.True(perSession <= 4096, $"{perSession} bytes kept in memory per idle session, both ends of the connection (budget 4096)");
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>A configured channel that never carried a session holds no counters: SES-TOT:20000 costs about 80 bytes a channel.</summary>
    [Fact]
    public async Task UnusedChannelsCostAlmostNothing()
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var pool = new ChannelPool(20_000, 2, 2);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        long perChannel = (after - before) / 20_000;
        Assert.DoesNotContain(pool.Channels, c => c.HasCounters);
        Assert.True(perChannel <= 128, $"{perChannel} bytes per configured channel (budget 128; 2.4 KB with padded counters made at start)");

        // A channel gets its counters at its first count, and the display reads zeros without making them.
        Assert.Equal(0, pool.Channels[5].CounterSnapshot()[SmtpCounter.CallSucc, Direction.In]);
        Assert.False(pool.Channels[5].HasCounters);
        pool.Channels[5].Counters.Increment(SmtpCounter.CallSucc, Direction.In);
        Assert.True(pool.Channels[5].HasCounters);
        Assert.Equal(1, pool.Channels[5].CounterSnapshot()[SmtpCounter.CallSucc, Direction.In]);
        GC.KeepAlive(pool);
        await Task.CompletedTask;
    }

    /// <summary>A blocking client: connect, 220, EHLO, the whole 250 reply; then it stays open.</summary>
    private static Socket OpenIdle(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        socket.Connect(IPAddress.Loopback, port);
        ReadReply(socket, "220 ");
        socket.Send("EHLO idle.test\r\n"u8);
        ReadReply(socket, "250 ");
        return socket;
    }

    private static void ReadReply(Socket socket, string last)
    {
        var text = new StringBuilder();
        Span<byte> buffer = stackalloc byte[1024];
        while (true)
        {
            int n = socket.Receive(buffer);
            Assert.True(n > 0, $"connection closed after '{text}'");
            text.Append(Encoding.ASCII.GetString(buffer[..n]));
            string all = text.ToString();
            if (all.EndsWith("\r\n", StringComparison.Ordinal) && (all.StartsWith(last, StringComparison.Ordinal) || all.Contains("\r\n" + last, StringComparison.Ordinal)))
            {
                return;
            }
        }
    }
}
