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

    /// <summary>
    /// RCPT against the recipient table (LOCAL-RCPT:KNOWN, the default): a user in two spellings,
    /// a subaddress, an alias with a relayed target, a catch-all, the bare postmaster, and unknown
    /// names refused with 550 (logged and counted). Each RCPT stats WDIR/users and WDIR/aliases and
    /// checks the mailbox's room: all of it without allocating.
    /// </summary>
    [Fact]
    public Task RcptAgainstTheRecipientTableAllocatesNothing() =>
        MeasureAsync(
            "MAIL FROM:<a@client.test>|RCPT TO:<bob@local.test>|RCPT TO:<Bob+tag@LOCAL.test>|RCPT TO:<team@local.test>|RCPT TO:<anyone@other.test>|RCPT TO:<postmaster>|RSET|",
            7, PrepareRecipients, "LOCAL-DOMAIN:local.test,other.test");

    /// <summary>
    /// Unknown names: 550, a session-log row and the counter, without allocating. A session ends
    /// after 20 refusals (421), so each pass is a new session with 18 refusals measured; making the
    /// session is outside the measurement (sessions are pooled in the server).
    /// </summary>
    [Fact]
    public async Task UnknownLocalNamesAreRefusedWithoutAllocating()
    {
        using TestServerContext server = TestServerContext.WithRecipients(PrepareRecipients, "LOCAL-DOMAIN:local.test,other.test");
        byte[] batch = System.Text.Encoding.ASCII.GetBytes("MAIL FROM:<a@client.test>\r\nRCPT TO:<nobody@local.test>\r\nRCPT TO:<\"a/b\"@local.test>\r\nRSET\r\n");
        long measured = -1;
        int passes = 0;
        while (measured != 0 && passes < 20)
        {
            passes++;
            if (passes > 2)
            {
                await Task.Delay(100);
            }

            var transport = new PipeTransport(new IPEndPoint(IPAddress.Loopback, 40000), inline: true);
            var session = new InSession(server.Context);
            Task run = session.RunAsync(transport, channel: null);
            PipeReader replies = transport.ServerToClient.Reader;
            PipeWriter commands = transport.ClientToServer.Writer;
            long replyLines = Drain(replies);

            // The session's first command pays its one-time costs (96 bytes, as with known names).
            await commands.WriteAsync("NOOP\r\n"u8.ToArray());
            replyLines += Drain(replies);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 9; i++)
            {
                await commands.WriteAsync(batch);
                replyLines += Drain(replies);
            }

            measured = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.False(run.IsCompleted, "the session ended early");
            Assert.Equal(2 + (9 * 4), replyLines);
            await commands.CompleteAsync();
            await run;
        }

        Assert.True(measured == 0, $"{measured} bytes allocated over 18 refused RCPTs");
        Assert.Equal(passes * 18, server.Context.RecipientCounters.UnknownLocal);
        Assert.False(Directory.Exists(server.MailboxDir));
    }

    private static void PrepareRecipients(string workDir)
    {
        AbilisFast.Server.Access.UserStore users = AbilisFast.Server.Access.UserStore.Load(workDir);
        users.Set("bob", AbilisFast.Server.Access.UserRights.Mail, "pw");
        users.Set("carol", AbilisFast.Server.Access.UserRights.Mail, "pw");
        string aliases = AbilisFast.Server.Recipients.AliasFile.PathIn(workDir);
        File.WriteAllText(aliases, "team: bob, carol, far@remote.test\n@other.test: carol\n");

        // Files that changed a while ago: no re-reads within the settle time during the measurement.
        DateTime old = DateTime.UtcNow.AddHours(-1);
        File.SetLastWriteTimeUtc(AbilisFast.Server.Access.UserStore.PathIn(workDir), old);
        File.SetLastWriteTimeUtc(aliases, old);
    }

    private static Task MeasureAsync(string commandsText, int repliesPerBatch, params string[] parameters) =>
        MeasureAsync(commandsText, repliesPerBatch, prepare: null, parameters);

    private static async Task MeasureAsync(string commandsText, int repliesPerBatch, Action<string>? prepare, params string[] parameters)
    {
        // Thousands of NOOP/RSET/VRFY/HELP in one session: the junk-command limit (tested on its own
        // in JunkAndStressTests) is set out of the way.
        using TestServerContext server = prepare is null
            ? new TestServerContext(["LOCAL-DOMAIN:local.test", "MAX-RCPT:1000", "JUNK-CMD-LIMIT:65535", .. parameters])
            : TestServerContext.WithRecipients(prepare, ["MAX-RCPT:1000", "MAX-IP-SES:1", "JUNK-CMD-LIMIT:65535", .. parameters]);
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
