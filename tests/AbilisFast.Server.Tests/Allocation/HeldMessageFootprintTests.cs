namespace AbilisFast.Server.Tests.Allocation;

/// <summary>
/// What the server keeps in memory for each message it holds (QUEUE-HOLD, or a long deferral):
/// the spool's index entry. Measured as live managed bytes over thousands of committed messages, each
/// with a 100-byte envelope: the envelope must stay on disk, not in the index.
/// </summary>
/// <remarks>
/// Live bytes are counted for the whole process, so these tests run alone, after every test that
/// runs in parallel (a neighbour's objects would count as ours).
/// </remarks>
[Collection(FootprintCollection.Name)]
public sealed class HeldMessageFootprintTests
{
    [Fact]
    public async Task SpoolIndexEntryPerHeldMessageStaysSmall()
    {
        const int Count = 20_000;
        using var dir = new SpoolTestDir();
        var options = dir.Options(segmentSize: 16L * 1024 * 1024, fsync: false);
        using SpoolStore spool = SpoolStore.Open(dir.Path, options, out _);
        byte[] body = new byte[1024];
        byte[] envelope = new byte[100];
        await SpoolTestData.StoreAsync(spool, body, envelope);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < Count; i++)
        {
            await SpoolTestData.StoreAsync(spool, body, envelope, chunk: 1024);
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.Equal(Count + 1, spool.LiveMessages);
        long perMessage = (after - before) / Count;
        // 362 bytes when the index kept a copy of each envelope, a List of segments and an array of
        // fragments; about 165 with the envelope left on disk and the first fragment and segment inline.
        Assert.True(perMessage <= 256, $"{perMessage} bytes kept in memory per held message (budget 256)");
    }

    /// <summary>
    /// The whole server: messages accepted over a real socket with QUEUE-HOLD:YES stay queued; what
    /// each one keeps alive (spool index entry, queue entry, anything a session or the delivery side
    /// holds on to) is measured as live managed bytes.
    /// </summary>
    [Fact]
    public async Task AHeldMessageAcceptedOverSmtpKeepsLittleMemory()
    {
        const int Count = 3000;
        using var context = new TestServerContext(["LOCAL-DOMAIN:local.test", "QUEUE-HOLD:YES"]);
        await using var server = new SmtpListener(context.Context);
        server.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.LocalEndPoint!.Port);
        Assert.StartsWith("220", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"));
        string transaction = "MAIL FROM:<sender@client.test>\r\nRCPT TO:<rcpt@local.test>\r\nDATA\r\n"
            + "Subject: held\r\n\r\n" + new string('x', 1000) + "\r\n.\r\n";
        await SendAsync(200);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        await SendAsync(Count);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.Equal(Count + 200, context.Context.Queue.OutCount);
        long perMessage = (after - before) / Count;
        // About 204 bytes measured: the spool index entry, the dictionary slot and the queue entry.
        Assert.True(perMessage <= 320, $"{perMessage} bytes kept in memory per held message (budget 320)");

        async Task SendAsync(int messages)
        {
            for (int i = 0; i < messages; i++)
            {
                await client.SendAsync(transaction);
                Assert.StartsWith("250", await client.ReadReplyAsync());
                Assert.StartsWith("250", await client.ReadReplyAsync());
                Assert.StartsWith("354", await client.ReadReplyAsync());
                Assert.StartsWith("250", await client.ReadReplyAsync());
            }
        }
    }
}

/// <summary>
/// Tests that measure a whole process (live bytes of the test host, write counters of a server):
/// never run beside other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FootprintCollection
{
    public const string Name = "Process-wide measurements, run alone";
}
