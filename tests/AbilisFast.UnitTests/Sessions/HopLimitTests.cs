namespace AbilisFast.Server.Tests.Sessions;

/// <summary>
/// HOP-LIMIT on the receive path: the Received: fields of the header section are counted while
/// DATA or BDAT streams, and a message that would carry more than HOP-LIMIT with ours is refused
/// 554 5.4.6 at its end with nothing queued; the session goes on.
/// </summary>
public sealed class HopLimitTests : IDisposable
{
    private const int Limit = 5;

    private readonly TestServerContext _server = new("LOCAL-DOMAIN:local.test", $"HOP-LIMIT:{Limit}");

    public void Dispose() => _server.Dispose();

    private static string Hops(int count) => string.Concat(Enumerable.Range(1, count).Select(i =>
        $"Received: from hop{i}.test ([127.0.0.1])\r\n\tby hop{i + 1}.test (AbilisFast) with ESMTP id 0000000{i};\r\n\tSat, 28 Nov 2026 19:16:37 +0000\r\n"));

    private async Task<string?> SendDataAsync(SessionHarness s, string message)
    {
        await s.OpenDataAsync("a@client.test", "b@local.test");
        return await s.CommandAsync(message + ".");
    }

    [Fact]
    public async Task OneFieldBelowTheLimitIsQueuedAndTheLimitItselfIsRefused()
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        await s.CommandAsync("EHLO client.test");

        // Four fields and ours make five: HOP-LIMIT allows that many.
        Assert.StartsWith("250 2.0.0 Ok: queued as", await SendDataAsync(s, Hops(Limit - 1) + "Subject: ok\r\n\r\nbody\r\n"));
        Assert.Single(_server.Stored());

        // Five and ours would make six.
        Assert.Equal($"554 5.4.6 Error: too many hops ({Limit} Received: header fields, HOP-LIMIT {Limit}): mail loop?",
            await SendDataAsync(s, Hops(Limit) + "Subject: loop\r\n\r\nbody\r\n"));
        Assert.Single(_server.Stored());
        Assert.Equal(1, _server.Context.Queue.OutCount);
        Assert.Equal(1, _server.Context.Loops.HopLimit.Value);
        Assert.Equal(1, _server.Context.Counters.Get(SmtpCounter.ExtFail, Direction.In));
        Assert.Contains(_server.Log.ReadLines(), l => l.Contains("refused: 5.4.6 Error: too many hops (5 Received: header fields, HOP-LIMIT 5)", StringComparison.Ordinal));

        // The session goes on: the next transaction is taken.
        Assert.StartsWith("250 2.0.0 Ok: queued as", await SendDataAsync(s, "Subject: next\r\n\r\nbody\r\n"));
        Assert.Equal(2, _server.Stored().Count);
    }

    [Fact]
    public async Task ReceivedTextInTheBodyOrInsideAFoldedFieldDoesNotCount()
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        string folded = "X-Trace: a\r\n Received: folded 1\r\n Received: folded 2\r\n\tReceived: folded 3\r\n";
        string body = "\r\n" + string.Concat(Enumerable.Repeat("Received: quoted in the body\r\n", 20));
        Assert.StartsWith("250 2.0.0 Ok: queued as", await SendDataAsync(s, Hops(Limit - 1) + folded + "Subject: x\r\n" + body));
        Assert.Equal(0, _server.Context.Loops.HopLimit.Value);
    }

    [Fact]
    public async Task ADotStuffedBodyAndALongHeaderSectionAreCountedThroughTheDecoder()
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        string padding = string.Concat(Enumerable.Range(0, 200).Select(i => $"X-Pad-{i}: {new string('p', 60)}\r\n"));
        Assert.StartsWith("554 5.4.6", await SendDataAsync(s, padding + Hops(Limit) + "\r\n..\r\n"));
        Assert.Empty(_server.Stored());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    public async Task BdatChunksCountLikeData(int chunkSize)
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        await s.CommandAsync("EHLO client.test");
        foreach ((int hops, string expected) in new[] { (Limit - 1, "250 2.0.0 Ok: queued as"), (Limit, "554 5.4.6 Error: too many hops") })
        {
            Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<a@client.test>"));
            Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<b@local.test>"));
            byte[] message = Encoding.ASCII.GetBytes(Hops(hops) + "Subject: chunked\r\n\r\nReceived: body\r\n");
            for (int at = 0; at < message.Length; at += chunkSize)
            {
                int size = Math.Min(chunkSize, message.Length - at);
                bool last = at + size == message.Length;
                await s.SendAsync([.. Encoding.ASCII.GetBytes($"BDAT {size}{(last ? " LAST" : string.Empty)}\r\n"), .. message.AsSpan(at, size)]);
                string? reply = await s.ReadReplyAsync();
                Assert.StartsWith(last ? expected : "250 2.0.0 Ok: ", reply);
            }
        }

        Assert.Single(_server.Stored());
        Assert.Equal(1, _server.Context.Loops.HopLimit.Value);
    }

    [Fact]
    public async Task HopLimitIsLive()
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        _server.Context.ApplySettings(_server.Settings with { HopLimit = Limit + 2 });
        Assert.StartsWith("250 2.0.0 Ok: queued as", await SendDataAsync(s, Hops(Limit + 1) + "\r\nbody\r\n"));
        Assert.StartsWith("554 5.4.6", await SendDataAsync(s, Hops(Limit + 2) + "\r\nbody\r\n"));
    }
}
