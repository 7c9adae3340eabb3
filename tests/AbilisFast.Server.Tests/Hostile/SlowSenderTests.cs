using static AbilisFast.Server.Tests.Support.LoopbackServers;

namespace AbilisFast.Server.Tests.Hostile;

/// <summary>
/// Slow senders over real loopback sockets: a command line that dribbles in must be whole within
/// DT, a DATA or BDAT transfer must end within DATA-TIMEOUT and keep up MIN-DATA-RATE. Each is
/// dropped with 421 4.4.2, counted by kind, session-logged, and its channel is freed.
/// </summary>
public sealed class SlowSenderTests
{
    private const string Timeout421 = "421 4.4.2 Error: timeout exceeded";

    /// <summary>
    /// Sends <paramref name="text"/> in pieces of <paramref name="piece"/> bytes every
    /// <paramref name="pause"/> until the server answers; returns the answer and how many bytes went out.
    /// </summary>
    private static async Task<(string? Reply, int Sent)> DribbleAsync(SmtpTestClient client, string text, int piece, TimeSpan pause)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        Task<string?> reply = client.ReadReplyAsync(TimeSpan.FromSeconds(30));
        int sent = 0;
        while (sent < bytes.Length && !reply.IsCompleted)
        {
            int n = Math.Min(piece, bytes.Length - sent);
            try
            {
                await client.SendAsync(bytes[sent..(sent + n)]);
            }
            catch (System.Net.Sockets.SocketException)
            {
                break;
            }

            sent += n;
            await Task.WhenAny(reply, Eventually.LetTimePassAsync(pause, "the slow sender's pause between pieces"));
        }

        return (await reply, sent);
    }

    private static async Task<SmtpTestClient> InDataAsync(SmtpListener server, string bdat = "")
    {
        SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(server.LocalEndPoint!.Port);
        Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<a@client.test>"));
        Assert.Equal("250 2.1.5 Ok", await client.CommandAsync("RCPT TO:<b@local.test>"));
        if (bdat.Length == 0)
        {
            Assert.StartsWith("354 ", await client.CommandAsync("DATA"));
        }
        else
        {
            await client.SendAsync(bdat + "\r\n");
        }

        return client;
    }

    private static async Task AssertDroppedAsync(TestServerContext context, SmtpTestClient client, string logText)
    {
        Assert.True(await client.IsClosedAsync());
        await Eventually.WaitAsync(() => context.Context.Channels.Active == 0, "the channel freed");
        Assert.Contains(context.Log.ReadLines(), l => l.Contains(logText, StringComparison.Ordinal));
        Assert.Empty(context.Stored());
    }

    [Fact]
    public async Task ACommandLineThatDribblesInMustBeWholeWithinDt()
    {
        await using LoopbackServer loopback = await StartAsync("DT:2");
        var (context, server) = loopback;
        await using SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(server.LocalEndPoint!.Port);

        // One byte every 300 ms: never 2 s without a byte, but the line would take 12 s.
        string line = "NOOP " + new string('x', 35) + "\r\n";
        var (reply, sent) = await DribbleAsync(client, line, 1, TimeSpan.FromMilliseconds(300));
        Assert.Equal(Timeout421, reply);
        Assert.True(sent < line.Length, $"the whole line went out ({sent} bytes) before the 421");
        await AssertDroppedAsync(context, client, "Timeout: DT exceeded");
        Assert.Equal(1, context.Context.Timeouts.Idle.Value);
        Assert.Equal(0, context.Context.Timeouts.DataRate.Value + context.Context.Timeouts.DataDeadline.Value);
    }

    /// <summary>
    /// A transfer the server must cut. DATA-TIMEOUT: a fast enough rate (no MIN-DATA-RATE) and 4
    /// bytes every 200 ms (DT never fires), so only the whole-transfer deadline can stop it.
    /// MIN-DATA-RATE, over DATA and over BDAT: 10 bytes every 200 ms is 50 B/s, far under 1000 B/s
    /// over a 1 s window. Each is counted as its own kind of timeout, and only as that.
    /// </summary>
    [Theory]
    [InlineData("DATA-TIMEOUT:2", "MIN-DATA-RATE:0", "", 4, "Timeout: DATA-TIMEOUT exceeded")]
    [InlineData("DATA-TIMEOUT:0", "MIN-DATA-RATE:1000", "", 10, "Timeout: data slower than MIN-DATA-RATE")]
    [InlineData("DATA-TIMEOUT:0", "MIN-DATA-RATE:1000", "BDAT 100000 LAST", 10, "Timeout: data slower than MIN-DATA-RATE")]
    public async Task ATransferTooSlowOrTooLongIsDropped(string dataTimeout, string minDataRate, string bdat, int piece, string logText)
    {
        await using LoopbackServer loopback = await StartAsync("DT:60", dataTimeout, minDataRate, "DATA-RATE-WINDOW:1");
        var (context, server) = loopback;
        await using SmtpTestClient client = await InDataAsync(server, bdat);
        string text = "Subject: slow\r\n\r\n" + string.Concat(Enumerable.Repeat("slow text\r\n", 200)) + ".\r\n";
        var (reply, sent) = await DribbleAsync(client, text, piece, TimeSpan.FromMilliseconds(200));
        Assert.Equal(Timeout421, reply);
        Assert.True(sent < text.Length);
        await AssertDroppedAsync(context, client, logText);
        bool byRate = minDataRate != "MIN-DATA-RATE:0";
        Assert.Equal(byRate ? (0L, 1L) : (1L, 0L), (context.Context.Timeouts.DataDeadline.Value, context.Context.Timeouts.DataRate.Value));
    }

    [Fact]
    public async Task TheRateIsOnlyMeasuredDuringATransfer()
    {
        // Quick messages with pauses between them (within DT) are not a slow transfer.
        await using LoopbackServer loopback = await StartAsync("DT:60", "MIN-DATA-RATE:100000", "DATA-RATE-WINDOW:1");
        var (context, server) = loopback;
        await using SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(server.LocalEndPoint!.Port);
        for (int i = 0; i < 2; i++)
        {
            await client.SendQueuedAsync("a@client.test", "b@local.test", "Subject: quick\r\n\r\nbody\r\n");
            await Eventually.LetTimePassAsync(TimeSpan.FromMilliseconds(2500), "idle between messages, longer than the rate window");
        }

        Assert.Equal("221 2.0.0 Bye", await client.CommandAsync("QUIT"));
        Assert.Equal(2, context.Stored().Count);
        Assert.Equal(0, context.Context.Timeouts.DataRate.Value);
    }
}
