namespace AbilisFast.Server.Tests.Allocation;

/// <summary>
/// Allocation budget of the receive path, counted, not eyeballed: with inline pipe schedulers the
/// session runs on the test's own thread when the test writes, so GC.GetAllocatedBytesForCurrentThread
/// sees all of it. Replies are taken with TryRead after each write (the session has answered by then).
/// </summary>
public sealed class ReceivePathAllocationTests
{
    private const int Rounds = 2000;

    [Theory]
    [InlineData("MAIL FROM:<a@client.test> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=abc+2B1|RCPT TO:<b@local.test>|RCPT TO:<c@LOCAL.test>|NOOP|VRFY x|RSET|HELO client.test|", 7)]
    [InlineData("EHLO client.test|MAIL FROM:<> SMTPUTF8|RCPT TO:<postmaster>|RCPT TO:<@relay.test:d@local.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;d+40local.test|RSET|", 12)]
    [InlineData("HELP|NOOP|MAIL FROM:<a@client.test>|RCPT TO:<b@local.test>|RSET|", 6)]
    public Task CommandsAllocateNothingInTheSteadyState(string commandsText, int repliesPerBatch) =>
        MeasureAsync(commandsText, repliesPerBatch);

    /// <summary>
    /// A whole message through DATA (sink mode, so no spool thread is involved): per-message cost is
    /// zero too, whatever the body size.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(200)]
    public Task MessagesAllocateNothingWhateverTheirSize(int bodyLines) =>
        MeasureAsync(
            "MAIL FROM:<a@client.test>|RCPT TO:<b@local.test>|DATA|Subject: x||" + string.Concat(Enumerable.Repeat("..a line of text with a dot\n|", bodyLines)) + ".|",
            4,
            "SINK:YES");

    /// <summary>
    /// The hop count costs nothing either: nine Received: fields, each folded over three lines, are
    /// counted as the header section streams by (with ours they make HOP-LIMIT:10, so each message is taken).
    /// </summary>
    [Fact]
    public Task CountingReceivedFieldsAllocatesNothing() =>
        MeasureAsync(
            "MAIL FROM:<a@client.test>|RCPT TO:<b@local.test>|DATA|"
            + string.Concat(Enumerable.Repeat("Received: from hop.test ([127.0.0.1])|\tby mx.test (AbilisFast) with ESMTP id 0000002A;|\tSat, 28 Nov 2026 19:16:37 +0000|", 9))
            + "Subject: x||Received: in the body|.|",
            4,
            "SINK:YES", "HOP-LIMIT:10");

    private static async Task MeasureAsync(string commandsText, int repliesPerBatch, params string[] parameters)
    {
        using var server = new TestServerContext(["LOCAL-DOMAIN:local.test", "MAX-RCPT:1000", .. parameters]);
        var transport = new PipeTransport(new IPEndPoint(IPAddress.Loopback, 40000), inline: true);
        var session = new InSession(server.Context);
        Task run = session.RunAsync(transport, channel: null);
        PipeReader replies = transport.ServerToClient.Reader;
        PipeWriter commands = transport.ClientToServer.Writer;
        byte[] batch = System.Text.Encoding.ASCII.GetBytes(commandsText.Replace("|", "\r\n", StringComparison.Ordinal));
        long replyLines = Drain(replies);

        // Passes repeat until one allocates nothing (at most 20): the first ones run unoptimised
        // (tier-0) code, which boxes where optimised code does not; the steady state is what counts.
        long measured = -1;
        int passes = 0;
        while (measured != 0 && passes < 20)
        {
            passes++;
            if (passes > 2)
            {
                await Eventually.LetTimePassAsync(TimeSpan.FromMilliseconds(100), "the tiered JIT's call-counting delay, so hot methods are recompiled");
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Rounds / 2; i++)
            {
                await commands.WriteAsync(batch);
                replyLines += Drain(replies);
                Assert.False(run.IsCompleted, "the session ended early");
            }

            measured = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.Equal(1 + ((long)passes * Rounds / 2 * repliesPerBatch), replyLines);
        Assert.True(measured == 0, $"{measured} bytes allocated over {Rounds / 2 * repliesPerBatch} commands");
        await commands.CompleteAsync();
        await run;
    }

    /// <summary>Takes every complete reply line the session has written, without allocating.</summary>
    private static long Drain(PipeReader reader)
    {
        if (!reader.TryRead(out ReadResult result))
        {
            return 0;
        }

        ReadOnlySequence<byte> buffer = result.Buffer;
        SequencePosition consumed = buffer.Start;
        long seen = 0;
        while (buffer.Slice(consumed).PositionOf((byte)'\n') is { } lf)
        {
            consumed = buffer.GetPosition(1, lf);
            seen++;
        }

        reader.AdvanceTo(consumed, buffer.End);
        return seen;
    }
}
