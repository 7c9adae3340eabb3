using static AbilisFast.Server.Tests.Support.LoopbackServers;

namespace AbilisFast.Server.Tests.Hostile;

/// <summary>
/// Floods over real loopback sockets, each bounded in count and time: connection storms against
/// the channel limits, thousands of recipients, an endless line, HTTP and pipelined garbage. The
/// server must answer correctly, keep its memory bounded and still serve a well-behaved client.
/// </summary>
public sealed partial class FloodTests
{
    /// <summary>One attempt: connect from <paramref name="source"/>, read the first reply, close.</summary>
    private static async Task<string?> FirstReplyAsync(int port, IPAddress source)
    {
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(port, source: source);
        return await client.ReadReplyAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>A well-behaved client sends one message and quits.</summary>
    private static async Task LegitimateMessageAsync(int port, IPAddress? source = null)
    {
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(port, source: source);
        Assert.StartsWith("220 ", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("EHLO legit.test"));
        await client.SendQueuedAsync("a@legit.test", "postmaster@local.test", "Subject: still served\r\n\r\nhello\r\n");
        Assert.Equal("221 2.0.0 Bye", await client.CommandAsync("QUIT"));
    }

    /// <summary>A recipient every half second: the session is busy (never idle, never junk) until <paramref name="stop"/>.</summary>
    private static async Task KeepBusyAsync(SmtpTestClient client, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<held@local.test>"));
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [Fact]
    public async Task ThousandsOfConnectionAttemptsHitTheChannelLimitsAndTheServerStillServes()
    {
        await using LoopbackServer loopback = await StartAsync("SES-TOT:4", "SES-RESERVED-IN:0", "SES-RESERVED-OUT:0", "MAX-IP-SES:2", "MAX-RCPT:65535");
        var (context, server) = loopback;
        int port = server.LocalEndPoint!.Port;
        // Every channel busy: two sessions from each of two addresses, each inside a mail
        // transaction and sending RCPT now and then, so none is idle and none can be closed to
        // make room (as idle ones are under stress): however long the flood takes, it finds no channel.
        await using var held = new SmtpClientList();
        using var stopBusy = new CancellationTokenSource();
        var busy = new List<Task>();
        foreach (string address in (string[])["127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3"])
        {
            SmtpTestClient client = await SmtpTestClient.ConnectAsync(port, source: IPAddress.Parse(address));
            Assert.StartsWith("220 ", await client.ReadReplyAsync());
            Assert.StartsWith("250", await client.CommandAsync("EHLO held.test"));
            Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<held@client.test>"));
            held.Add(client);
            busy.Add(KeepBusyAsync(client, stopBusy.Token));
        }

        const int Attempts = 2000;
        var replies = new string?[Attempts];
        await Parallel.ForAsync(0, Attempts, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            // Odd attempts come from an address already at MAX-IP-SES, even ones from fresh addresses.
            IPAddress source = i % 2 == 1 ? IPAddress.Parse("127.0.0.2") : IPAddress.Parse($"127.0.{4 + (i % 200)}.{1 + (i / 200)}");
            replies[i] = await FirstReplyAsync(port, source);
        });

        for (int i = 0; i < Attempts; i++)
        {
            string expected = i % 2 == 1
                ? "421 4.7.0 Error: too many connections from your address"
                : "421 4.3.2 Error: no channel available, try again later";
            Assert.True(replies[i] == expected, $"attempt {i}: {replies[i]}");
        }

        Assert.Equal(Attempts, context.Context.Counters.Get(SmtpCounter.CallFail, Direction.In));
        Assert.Equal(4, context.Context.Counters.Get(SmtpCounter.CallSucc, Direction.In));
        Assert.Equal(4, context.Context.Channels.Active);

        // One held session ends: a legitimate client gets its channel and is served.
        await stopBusy.CancelAsync();
        await Task.WhenAll(busy);
        Assert.Equal("221 2.0.0 Bye", await held[0].CommandAsync("QUIT"));
        await Eventually.WaitAsync(() => context.Context.Channels.Active == 3, "a channel freed");
        await LegitimateMessageAsync(port, IPAddress.Parse("127.0.0.9"));
        Assert.Single(context.Stored());
    }

    [Fact]
    public async Task ThousandsOfRecipientsInOneSessionStopAtMaxRcpt()
    {
        await using LoopbackServer loopback = await StartAsync("MAX-RCPT:100");
        var (context, server) = loopback;
        await using SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(server.LocalEndPoint!.Port);
        Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<a@client.test>"));

        const int Recipients = 5000;
        var pipelined = new StringBuilder();
        for (int i = 0; i < Recipients; i++)
        {
            pipelined.Append(CultureInfo.InvariantCulture, $"RCPT TO:<user{i}@local.test>\r\n");
        }

        pipelined.Append("DATA\r\n");
        Task send = client.SendAsync(pipelined.ToString());
        for (int i = 0; i < Recipients; i++)
        {
            string? reply = await client.ReadReplyAsync();
            string expected = i < 100 ? "250 2.1.5 Ok" : "452 4.5.3 Error: too many recipients";
            Assert.True(reply == expected, $"RCPT {i}: {reply}");
        }

        await send;
        Assert.StartsWith("354 ", await client.ReadReplyAsync());
        Assert.StartsWith("250 2.0.0 Ok: queued as ", await client.CommandAsync("Subject: many\r\n\r\nx\r\n."));
        Assert.Equal("221 2.0.0 Bye", await client.CommandAsync("QUIT"));
        StoredMessage message = Assert.Single(context.Stored());
        Assert.Equal(100, message.Envelope.Recipients.Count);
        Assert.Equal("user99@local.test", message.Envelope.Recipients[^1].Address);
    }

    [Fact]
    public async Task PipelinedGarbageEndsAfterTwentyErrorsAndTheServerStillServes()
    {
        await using LoopbackServer loopback = await StartAsync();
        var (context, server) = loopback;
        var random = new Random(5321);
        var garbage = new List<byte>();
        for (int i = 0; i < 1000; i++)
        {
            // Lines of random bytes (NUL, CR and high bytes included) that no verb starts with.
            byte[] line = new byte[random.Next(1, 600)];
            random.NextBytes(line);
            line[0] = (byte)'#';
            foreach (ref byte b in line.AsSpan())
            {
                b = b == (byte)'\n' ? (byte)'?' : b;
            }

            garbage.AddRange(line);
            garbage.AddRange("\r\n"u8.ToArray());
        }

        await using SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(server.LocalEndPoint!.Port);
        try
        {
            await client.SendAsync([.. garbage]);
        }
        catch (SocketException)
        {
            // The server may close before all of it is taken.
        }

        var replies = new List<string>();
        while (await client.ReadReplyAsync(TimeSpan.FromSeconds(10)) is { } reply)
        {
            replies.Add(reply);
        }

        Assert.Equal(21, replies.Count);
        Assert.All(replies[..20], r => Assert.Matches("^500 5\\.5\\.2 ", r));
        Assert.Equal("421 4.7.0 Error: too many errors", replies[20]);
        await Eventually.WaitAsync(() => context.Context.Channels.Active == 0, "the channel freed");
        await LegitimateMessageAsync(server.LocalEndPoint!.Port);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: mx.test\r\nUser-Agent: curl/8\r\n\r\n")]
    [InlineData("POST /login HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")]
    [InlineData("CONNECT mx.test:25 HTTP/1.1\r\n\r\n")]
    public async Task HttpRequestsAreClosedAtOnce(string request)
    {
        await using LoopbackServer loopback = await StartAsync();
        var (context, server) = loopback;
        await using SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(server.LocalEndPoint!.Port);
        await client.SendAsync(request);
        Assert.Equal("554 5.7.0 Error: this is an SMTP server, not HTTP", await client.ReadReplyAsync());
        Assert.Null(await client.ReadReplyAsync(TimeSpan.FromSeconds(5)));
        await Eventually.WaitAsync(() => context.Context.Channels.Active == 0, "the channel freed");
    }

    /// <summary>A "kB" figure of /proc/PID/status (VmRSS, VmHWM), in bytes.</summary>
    private static long ProcStatus(int pid, string field)
    {
        string status = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status");
        Match m = Regex.Match(status, "^" + field + @":\s+(\d+) kB", RegexOptions.Multiline);
        Assert.True(m.Success, status);
        return long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * 1024;
    }

    [Fact]
    public async Task SixtyFourMegabytesWithoutANewlineAreNeverBuffered()
    {
        using ServerProcess server = await ServerProcess.StartAsync(parameters: ["LOCAL-DOMAIN:local.test", "STORE-MB:YES"]);
        int pid = server.ProcessId;
        await LegitimateMessageAsync(server.Port); // warm: the first session's one-time costs are in the baseline
        long before = ProcStatus(pid, "VmHWM");

        await using (SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(server.Port))
        {
            byte[] block = new byte[64 * 1024];
            Array.Fill(block, (byte)'A');
            "MAIL FROM:<"u8.CopyTo(block);
            const int Total = 64 << 20;
            for (int sent = 0; sent < Total; sent += block.Length)
            {
                await client.SendAsync(block);
                block.AsSpan(0, 11).Fill((byte)'A');
            }

            // The line finally ends: one 500 for it, and the session goes on.
            Assert.Equal("500 5.5.2 Error: line too long", await client.CommandAsync(""));
            Assert.Equal("250 2.0.0 Ok", await client.CommandAsync("NOOP"));
            Assert.Equal("221 2.0.0 Bye", await client.CommandAsync("QUIT"));
        }

        // Peak resident memory grew by far less than the 64 MB line: it was discarded as it came.
        long peak = ProcStatus(pid, "VmHWM");
        Assert.True(peak - before < 24L << 20, $"peak RSS before {before >> 20} MB, after {peak >> 20} MB");
        await LegitimateMessageAsync(server.Port);
        server.DeleteWorkDir();
    }
}
