namespace AbilisFast.Server.Tests.Sessions;

/// <summary>Low disk and write failures: clear 4xx replies, nothing partial left, service goes on.</summary>
public sealed class StorageFailureTests
{
    [Fact]
    public async Task LowDiskAtMailIs452()
    {
        long free = 1L << 20;
        using var server = new TestServerContext(new SpoolOptions { FreeSpaceOverride = () => free }, "LOCAL-DOMAIN:local.test");
        await using SessionHarness s = await SessionHarness.StartAsync(server.Context);
        Assert.Equal("452 4.3.1 Error: insufficient system storage", await s.CommandAsync("MAIL FROM:<a@client.test>"));
        Assert.Equal(1, server.Context.Counters.Get(SmtpCounter.ExtFail, Direction.In));

        free = 10L << 30;
        Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<a@client.test>"));
    }

    [Fact]
    public async Task DeclaredSizeCountsAgainstFreeSpace()
    {
        // MAIL needs the declared size plus room for a new segment and the reserve (here 64 + 64 MiB).
        using var server = new TestServerContext(new SpoolOptions { FreeSpaceOverride = () => 150L << 20 }, "LOCAL-DOMAIN:local.test");
        await using SessionHarness s = await SessionHarness.StartAsync(server.Context);
        Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<a@client.test> SIZE=1000"));
        await s.CommandAsync("RSET");
        Assert.StartsWith("452 4.3.1", await s.CommandAsync("MAIL FROM:<a@client.test> SIZE=60000000"));
    }

    [Theory]
    [InlineData(100)]
    [InlineData(100_000)]
    public async Task WriteFailureDuringDataIs451AndNothingIsQueued(int bodyLines)
    {
        bool fail = false;
        var options = new SpoolOptions { WriteFault = n => fail ? n / 2 : -1 };
        using var server = new TestServerContext(options, "LOCAL-DOMAIN:local.test");
        await using SessionHarness s = await SessionHarness.StartAsync(server.Context);
        await s.CommandAsync("MAIL FROM:<a@client.test>");
        await s.CommandAsync("RCPT TO:<b@local.test>");
        Assert.StartsWith("354", await s.CommandAsync("DATA"));
        fail = true;
        await s.SendAsync(string.Concat(Enumerable.Repeat("some text of the failing message\r\n", bodyLines)));
        Assert.Equal("451 4.3.0 Error: queue file write error", await s.CommandAsync("."));
        Assert.Equal(0, server.Context.Queue.OutCount);
        Assert.Equal(1, server.Context.Counters.Get(SmtpCounter.ExtFail, Direction.In));
        Assert.Empty(server.Stored());

        // Once the disk works again, the same session delivers the next message.
        fail = false;
        await s.OpenDataAsync("a@client.test", "b@local.test");
        Assert.StartsWith("250 2.0.0 Ok: queued as", await s.CommandAsync("fine\r\n."));
        Assert.EndsWith("\r\nfine\r\n", Assert.Single(server.Stored()).Body);
    }
}
