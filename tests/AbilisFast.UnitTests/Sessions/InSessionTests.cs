namespace AbilisFast.Server.Tests.Sessions;

/// <summary>Every IN state and error path, over in-memory pipes, with a real spool underneath.</summary>
public sealed class InSessionTests : IDisposable
{
    private readonly TestServerContext _server = new("LOCAL-DOMAIN:local.test", "RELAY-NET:10.1/16", "MAX-RCPT:3", "MSG-MAXSIZE:1");

    public void Dispose() => _server.Dispose();

    private Task<SessionHarness> Start(string remote = "127.0.0.1") => SessionHarness.StartAsync(_server.Context, remote);

    [Fact]
    public async Task EhloAdvertisesEveryExtension()
    {
        await using SessionHarness s = await Start();
        string? reply = await s.CommandAsync("EHLO client.test");
        Assert.Equal("250-mx.test\n250-PIPELINING\n250-SIZE 1024\n250-8BITMIME\n250-ENHANCEDSTATUSCODES\n250-SMTPUTF8\n250-DSN\n250 CHUNKING", reply);
        Assert.Equal(SmtpState.WaitMail, s.Session.State);
    }

    [Fact]
    public async Task HelpListsEveryCommandTheServerKnows()
    {
        await using SessionHarness s = await Start();
        Assert.Equal(
            "214-2.0.0 Commands: HELO EHLO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP\n214 2.0.0 See RFC 5321",
            await s.CommandAsync("HELP"));
    }

    [Fact]
    public async Task HeloAnswersWithTheHostName()
    {
        await using SessionHarness s = await Start();
        Assert.Equal("250 mx.test", await s.CommandAsync("HELO client.test"));
    }

    [Fact]
    public async Task AWholeTransactionIsQueuedAfterTheCommit()
    {
        await using SessionHarness s = await Start();
        Assert.Equal(SmtpState.WaitHelo, s.Session.State);
        await s.CommandAsync("EHLO client.test");
        Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<a@client.test>"));
        Assert.Equal(SmtpState.WaitRcpt, s.Session.State);
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<b@local.test>"));
        Assert.Equal(SmtpState.Rcpt, s.Session.State);
        Assert.StartsWith("354 ", await s.CommandAsync("DATA"));
        Assert.Equal(SmtpState.Data, s.Session.State);
        string? reply = await s.CommandAsync("Subject: t\r\n\r\nhello\r\n.");
        Assert.Matches("^250 2.0.0 Ok: queued as [0-9A-F]{8}$", reply);
        Assert.Equal(SmtpState.WaitMail, s.Session.State);
        Assert.Equal(1, _server.Context.Queue.OutCount);
        StoredMessage m = Assert.Single(_server.Stored());
        Assert.Equal(reply![^8..], m.Id.ToString("X8"));
        Assert.EndsWith("Subject: t\r\n\r\nhello\r\n", m.Body);
        Assert.Equal(1, _server.Context.Counters.Get(SmtpCounter.ExtSucc, Direction.In));
        Assert.Equal(1, _server.Context.Counters.Get(SmtpCounter.LocalSucc, Direction.In));
    }

    [Fact]
    public async Task MailWithoutHeloIsAllowedAsTheManualSays()
    {
        await using SessionHarness s = await Start();
        Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<>"));
    }

    [Theory]
    [InlineData("RCPT TO:<b@local.test>", "503 5.5.1 Error: need MAIL command")]
    [InlineData("DATA", "503 5.5.1 Error: need MAIL command")]
    [InlineData("FOO bar", "500 5.5.2 Error: command not recognized")]
    [InlineData("HELO", "501 5.5.4 Syntax: HELO hostname")]
    [InlineData("EHLO", "501 5.5.4 Syntax: EHLO hostname")]
    [InlineData("MAIL <a@b.test>", "501 5.5.4 Syntax: MAIL FROM:<address>")]
    [InlineData("MAIL FROM:a@b.test", "501 5.1.7 Bad sender address syntax")]
    [InlineData("MAIL FROM:<a@b.test> FOO=1", "555 5.5.4 Unsupported or malformed MAIL/RCPT parameter")]
    [InlineData("MAIL FROM:<a@b.test> SIZE=abc", "555 5.5.4 Unsupported or malformed MAIL/RCPT parameter")]
    [InlineData("MAIL FROM:<a@b.test> SIZE=2000", "552 5.3.4 Error: message size exceeds fixed limit")]
    [InlineData("MAIL FROM:<pel\u00e9@b.test>", "553 5.6.7 Non-ASCII address requires the SMTPUTF8 parameter")]
    [InlineData("VRFY", "501 5.5.4 Syntax: VRFY address")]
    [InlineData("VRFY user", "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery")]
    [InlineData("EXPN list", "502 5.5.1 Error: command not implemented")]
    [InlineData("NOOP", "250 2.0.0 Ok")]
    [InlineData("RSET", "250 2.0.0 Ok: reset")]
    [InlineData("RSET x", "501 5.5.4 Syntax: this command takes no arguments")]
    public async Task SingleCommandReplies(string command, string expected)
    {
        await using SessionHarness s = await Start();
        Assert.Equal(expected, await s.CommandAsync(command));
    }

    [Fact]
    public async Task HeloThatIsNotUtf8IsRefused()
    {
        // Found by tools/fuzz.sh in: an EHLO name with a stray 8-bit byte was taken, went into the
        // envelope, and the message was answered "250 queued" but its envelope never decoded, so the
        // delivery engine left it in the spool for good.
        await using SessionHarness s = await Start();
        await s.SendAsync([.. "EHLO clien"u8, 0x90, .. ".test\r\n"u8]);
        Assert.Equal("501 5.5.4 Syntax: EHLO hostname", await s.ReadReplyAsync());
        await s.SendAsync([.. "HELO "u8, 0xC3, 0x28, .. "\r\n"u8]);
        Assert.Equal("501 5.5.4 Syntax: HELO hostname", await s.ReadReplyAsync());
        Assert.Equal(SmtpState.WaitHelo, s.Session.State);
    }

    [Fact]
    public async Task Utf8HeloIsStoredInAnEnvelopeThatDecodes()
    {
        await using SessionHarness s = await Start();
        Assert.StartsWith("250-mx.test", await s.CommandAsync("EHLO b\u00fccher.test"));
        await s.SendQueuedAsync("a@client.test", "b@local.test", "hello\r\n");
        StoredMessage m = Assert.Single(_server.Stored()); // Stored() asserts that the envelope decodes
        Assert.Equal("b\u00fccher.test", m.Envelope.Helo);
    }

    [Theory]
    [InlineData("RCPT TO:b@local.test", "501 5.1.3 Bad recipient address syntax")]
    [InlineData("RCPT <b@local.test>", "501 5.5.4 Syntax: RCPT TO:<address>")]
    [InlineData("RCPT TO:<b@local.test> NOTIFY=NEVER X", "555 5.5.4 Unsupported or malformed MAIL/RCPT parameter")]
    [InlineData("RCPT TO:<b%elsewhere.test@local.test>", "550 5.7.1 Error: source routing, % and ! addresses are not accepted")]
    [InlineData("RCPT TO:<elsewhere.test!b@local.test>", "550 5.7.1 Error: source routing, % and ! addresses are not accepted")]
    [InlineData("RCPT TO:<b@elsewhere.test>", "554 5.7.1 Error: relay access denied")]
    [InlineData("RCPT TO:<b@local.test.elsewhere.test>", "554 5.7.1 Error: relay access denied")]
    [InlineData("RCPT TO:<@local.test:b@elsewhere.test>", "554 5.7.1 Error: relay access denied")]
    [InlineData("RCPT TO:<@elsewhere.test:b@local.test>", "250 2.1.5 Ok")]
    [InlineData("RCPT TO:<b@LOCAL.TEST>", "250 2.1.5 Ok")]
    [InlineData("RCPT TO:<postmaster>", "250 2.1.5 Ok")]
    [InlineData("DATA", "503 5.5.1 Error: need RCPT command")]
    [InlineData("MAIL FROM:<c@client.test>", "503 5.5.1 Error: nested MAIL command")]
    public async Task RecipientStageReplies(string command, string expected)
    {
        await using SessionHarness s = await Start();
        await s.CommandAsync("EHLO client.test");
        Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<a@client.test>"));
        Assert.Equal(expected, await s.CommandAsync(command));
    }

    [Fact]
    public async Task RelayIsAllowedFromRelayNet()
    {
        await using SessionHarness s = await Start("10.1.2.3");
        await s.CommandAsync("EHLO client.test");
        await s.CommandAsync("MAIL FROM:<a@client.test>");
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<b@elsewhere.test>"));
    }

    [Fact]
    public async Task RelayDenialIsCountedOncePerTransaction()
    {
        await using SessionHarness s = await Start();
        await s.CommandAsync("MAIL FROM:<a@client.test>");
        Assert.StartsWith("554 5.7.1", await s.CommandAsync("RCPT TO:<b@elsewhere.test>"));
        Assert.StartsWith("554 5.7.1", await s.CommandAsync("RCPT TO:<c@elsewhere.test>"));
        Assert.Equal(1, _server.Context.Counters.Get(SmtpCounter.RelayFail, Direction.In));
    }

    [Fact]
    public async Task MaxRcptIsEnforcedWith452()
    {
        await using SessionHarness s = await Start();
        await s.CommandAsync("MAIL FROM:<a@client.test>");
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("250 2.1.5 Ok", await s.CommandAsync($"RCPT TO:<u{i}@local.test>"));
        }

        Assert.Equal("452 4.5.3 Error: too many recipients", await s.CommandAsync("RCPT TO:<u9@local.test>"));
        Assert.StartsWith("354", await s.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0", await s.CommandAsync("x\r\n."));
        Assert.Equal(3, Assert.Single(_server.Stored()).Envelope.Recipients.Count);
    }

    [Fact]
    public async Task NullSenderIsAccepted()
    {
        await using SessionHarness s = await Start();
        await s.OpenDataAsync("", "b@local.test");
        Assert.StartsWith("250 2.0.0", await s.CommandAsync("bounce\r\n."));
        Assert.Equal("", Assert.Single(_server.Stored()).Envelope.Sender);
    }

    [Fact]
    public async Task OverlongCommandLineIsRefusedAndTheSessionGoesOn()
    {
        await using SessionHarness s = await Start();
        Assert.Equal("500 5.5.2 Error: line too long", await s.CommandAsync("NOOP " + new string('x', 5000)));
        Assert.Equal("250 2.0.0 Ok", await s.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task BareLfOrCrInACommandIsRefused()
    {
        await using SessionHarness s = await Start();
        await s.SendAsync("NOOP\n");
        Assert.StartsWith("500 5.5.2 Error: bare <CR> or <LF>", await s.ReadReplyAsync());
        await s.SendAsync("NO\rOP\r\n");
        Assert.StartsWith("500 5.5.2 Error: bare <CR> or <LF>", await s.ReadReplyAsync());
    }

    [Fact]
    public async Task BodyOverTheLimitIsDrainedAnd552WithNothingQueued()
    {
        await using SessionHarness s = await Start();
        await s.OpenDataAsync("a@client.test", "b@local.test");
        string big = string.Concat(Enumerable.Repeat("0123456789012345678901234567890123456789\r\n", 100));
        Assert.Equal("552 5.3.4 Error: message size exceeds fixed limit", await s.CommandAsync(big + "."));
        Assert.Equal(SmtpState.WaitHelo, s.Session.State);
        Assert.Equal(0, _server.Context.Queue.OutCount);
        Assert.Equal(1, _server.Context.Counters.Get(SmtpCounter.ExtFail, Direction.In));

        await s.OpenDataAsync("a@client.test", "b@local.test");
        Assert.StartsWith("250 2.0.0", await s.CommandAsync("small\r\n."));
        Assert.Contains("small", Assert.Single(_server.Stored()).Body);
    }

    [Fact]
    public async Task TooManyErrorsCloseWith421()
    {
        await using SessionHarness s = await Start();
        for (int i = 1; i < Sessions_MaxErrors; i++)
        {
            Assert.StartsWith("500 5.5.2", await s.CommandAsync("BOGUS"));
        }

        Assert.StartsWith("500 5.5.2", await s.CommandAsync("BOGUS"));
        Assert.Equal("421 4.7.0 Error: too many errors", await s.ReadReplyAsync());
        Assert.True(await s.EndedAsync());
    }

    private const int Sessions_MaxErrors = AbilisFast.Server.Sessions.InSession.MaxErrors;

    [Fact]
    public async Task AClientThatTalksBeforeTheGreetingIsRefused()
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context, talkedFirst: true);
        Assert.Equal("554 5.5.1 Error: client sent data before the greeting", await s.ReadReplyAsync());
        Assert.True(await s.EndedAsync());
    }

    [Fact]
    public async Task HttpRequestsAreClosedAtOnce()
    {
        await using SessionHarness s = await Start();
        Assert.StartsWith("554 5.7.0", await s.CommandAsync("GET / HTTP/1.1"));
        Assert.True(await s.EndedAsync());
    }

    [Fact]
    public async Task QuitSaysByeAndCloses()
    {
        await using SessionHarness s = await Start();
        Assert.Equal("221 2.0.0 Bye", await s.CommandAsync("QUIT"));
        Assert.True(await s.EndedAsync());
    }

    [Fact]
    public async Task TimeoutSignalAnswers421AndCloses()
    {
        await using SessionHarness s = await Start();
        // The heartbeat's check, one DT (120 s by default) and more in the future.
        s.Session.CheckDeadlines(Environment.TickCount64 + 200_000, TestSettings.Create());
        Assert.Equal("421 4.4.2 Error: timeout exceeded", await s.ReadReplyAsync());
        Assert.True(await s.EndedAsync());
    }

    [Fact]
    public async Task PipelinedTransactionsAreAnsweredInOrder()
    {
        await using SessionHarness s = await Start();
        await s.SendAsync(
            "EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@local.test>\r\nRCPT TO:<bad@elsewhere.test>\r\nDATA\r\n");
        Assert.StartsWith("250-mx.test", await s.ReadReplyAsync());
        Assert.Equal("250 2.1.0 Ok", await s.ReadReplyAsync());
        Assert.Equal("250 2.1.5 Ok", await s.ReadReplyAsync());
        Assert.StartsWith("554 5.7.1", await s.ReadReplyAsync());
        Assert.StartsWith("354", await s.ReadReplyAsync());
        await s.SendAsync("one\r\n.\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<c@local.test>\r\nBDAT 5 LAST\r\ntwo\r\nQUIT\r\n");
        Assert.StartsWith("250 2.0.0 Ok: queued as", await s.ReadReplyAsync());
        Assert.Equal("250 2.1.0 Ok", await s.ReadReplyAsync());
        Assert.Equal("250 2.1.5 Ok", await s.ReadReplyAsync());
        Assert.StartsWith("250 2.0.0 Ok: queued as", await s.ReadReplyAsync());
        Assert.Equal("221 2.0.0 Bye", await s.ReadReplyAsync());
        Assert.True(await s.EndedAsync());
        var stored = _server.Stored().OrderBy(m => m.Body.Contains("two")).ToList();
        Assert.EndsWith("\r\none\r\n", stored[0].Body);
        Assert.EndsWith("\r\ntwo\r\n", stored[1].Body);
    }

    [Theory]
    [InlineData("a\n.\nb\r\n.\r\n", "a\r\n.\r\nb\r\n")]
    [InlineData("a\r\n.\nb\r\n.\r\n", "a\r\n\r\nb\r\n")]
    [InlineData("a\n.\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n")]
    [InlineData("a\r.\rb\r\n.\r\n", "a\r\n.\r\nb\r\n")]
    [InlineData("a\r\n.\rb\r\n.\r\n", "a\r\n\r\nb\r\n")]
    [InlineData("a\r\n\0.\r\nb\r\n.\r\n", "a\r\n\0.\r\nb\r\n")]
    [InlineData("a\r\n..\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n")]
    public async Task DataEndsOnlyAtCrLfDotCrLf(string data, string stored)
    {
        await using SessionHarness s = await Start();
        await s.OpenDataAsync("a@client.test", "b@local.test");
        await s.SendAsync(data);
        Assert.StartsWith("250 2.0.0 Ok: queued as", await s.ReadReplyAsync());
        Assert.Equal("250 2.0.0 Ok", await s.CommandAsync("NOOP"));
        StoredMessage m = Assert.Single(_server.Stored());
        Assert.EndsWith(stored, m.Body);
        Assert.DoesNotMatch("[^\r]\n|\r[^\n]", m.Body);
    }

    [Fact]
    public async Task BdatRefusedBeforeMailStillDrainsItsChunk()
    {
        await using SessionHarness s = await Start();
        await s.SendAsync("BDAT 10\r\nRCPT TO:<>NOOP\r\n");
        Assert.Equal("503 5.5.1 Error: need MAIL command", await s.ReadReplyAsync());
        Assert.Equal("250 2.0.0 Ok", await s.ReadReplyAsync());
    }

    [Fact]
    public async Task BdatOverTheLimitIs552()
    {
        await using SessionHarness s = await Start();
        await s.CommandAsync("MAIL FROM:<a@client.test>");
        await s.CommandAsync("RCPT TO:<b@local.test>");
        await s.SendAsync("BDAT 2000\r\n" + new string('x', 2000));
        Assert.Equal("552 5.3.4 Error: message size exceeds fixed limit", await s.ReadReplyAsync());
        await s.SendAsync("BDAT 4 LAST\r\nabcd");
        Assert.Equal("503 5.5.1 Error: need MAIL command", await s.ReadReplyAsync());
        Assert.Empty(_server.Stored());
    }

    [Fact]
    public async Task BdatZeroLastEndsTheMessage()
    {
        await using SessionHarness s = await Start();
        await s.CommandAsync("MAIL FROM:<a@client.test>");
        await s.CommandAsync("RCPT TO:<b@local.test>");
        Assert.Equal("250 2.0.0 Ok: 4 octets received", await s.CommandAsync("BDAT 4\r\nab"));
        Assert.StartsWith("250 2.0.0 Ok: queued as", await s.CommandAsync("BDAT 0 LAST"));
        Assert.EndsWith("\r\nab\r\n", Assert.Single(_server.Stored()).Body);
    }

    [Fact]
    public async Task DataIsRefusedInABdatTransaction()
    {
        await using SessionHarness s = await Start();
        await s.CommandAsync("MAIL FROM:<a@client.test>");
        await s.CommandAsync("RCPT TO:<b@local.test>");
        await s.SendAsync("BDAT 3\r\nabc");
        Assert.StartsWith("250 2.0.0 Ok: 3 octets", await s.ReadReplyAsync());
        Assert.Equal("503 5.5.1 Error: DATA not allowed in a BDAT transaction", await s.CommandAsync("DATA"));
    }

    [Fact]
    public async Task SinkModeAcceptsAndDiscards()
    {
        using var sink = new TestServerContext("LOCAL-DOMAIN:local.test", "SINK:YES");
        await using SessionHarness s = await SessionHarness.StartAsync(sink.Context);
        await s.OpenDataAsync("a@client.test", "b@local.test");
        Assert.Matches("^250 2.0.0 Ok: accepted \\(sink mode, not stored\\) as [0-9A-F]{8}$", await s.CommandAsync("body\r\n."));
        Assert.Equal(0, sink.Context.Queue.OutCount);
        Assert.Empty(sink.Stored());
        Assert.Equal(1, sink.Context.Counters.Get(SmtpCounter.ExtSucc, Direction.In));
    }

    [Fact]
    public async Task ChannelShowsTheSessionState()
    {
        await using SessionHarness s = await Start();
        var channel = _server.Context.Channels.Channels.Single(c => c.IsBusy);
        Assert.Equal(SmtpState.WaitHelo, channel.SmtpState);
        await s.CommandAsync("HELO c");
        Assert.Equal(SmtpState.WaitMail, channel.SmtpState);
        await s.CommandAsync("MAIL FROM:<>");
        Assert.Equal(SmtpState.WaitRcpt, channel.SmtpState);
    }
}
