namespace AbilisFast.Server.Tests.Submission;

/// <summary>The submission rules (RFC 6409) over real loopback sockets, on SUBMISSION-PORT and on TLS-PORT with SUBMISSION-TLS.</summary>
public sealed class SubmissionPortTests
{
    [Fact]
    public async Task TheSubmissionPortIsAListeningEndPoint()
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync();
        Assert.Contains(server.Context.Context.ListeningEndPoints, e => e.Port == server.SubmissionPort);
        Assert.Equal(3, server.Context.Context.ListeningEndPoints.Count);
    }

    /// <summary>Whatever AUTH-PLAINTEXT says: it is about the MTA port, and the submission port keeps its own rule.</summary>
    [Theory]
    [InlineData("AUTH-PLAINTEXT:NO")]
    [InlineData("AUTH-PLAINTEXT:YES")]
    public async Task AuthIsOfferedOnlyUnderTlsAndMailNeedsIt(string authPlaintext)
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync(authPlaintext);
        await using SmtpTestClient client = await server.ConnectAsync();
        string? ehlo = await client.CommandAsync("EHLO client.test");
        Assert.Contains("250-STARTTLS", ehlo);
        Assert.DoesNotContain("AUTH", ehlo);
        Assert.Equal("530 5.7.0 Must issue a STARTTLS command first",
            await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(SubmissionServer.Bob, SubmissionServer.BobPassword)));
        Assert.Equal("530 5.7.0 Authentication required", await client.CommandAsync("MAIL FROM:<bob@local.test>"));
        Assert.Equal("220 2.0.0 Ready to start TLS", await client.CommandAsync("STARTTLS"));
        await client.StartTlsAsync();
        Assert.Contains("250-AUTH PLAIN LOGIN", await client.CommandAsync("EHLO client.test"));
        Assert.Equal("530 5.7.0 Authentication required", await client.CommandAsync("MAIL FROM:<bob@local.test>"));
        Assert.Equal("235 2.7.0 Authentication successful",
            await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(SubmissionServer.Bob, SubmissionServer.BobPassword)));
        Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<bob@local.test>"));
    }

    [Fact]
    public async Task PlaintextLoopbackAllowsAuthWithoutTlsAndSaysEsmtpa()
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync("SUBMISSION-PLAINTEXT:LOOPBACK");
        await using SmtpTestClient client = await server.ConnectAsync();
        Assert.Contains("250-AUTH PLAIN LOGIN", await client.CommandAsync("EHLO client.test"));
        Assert.Equal("235 2.7.0 Authentication successful",
            await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(SubmissionServer.Bob, SubmissionServer.BobPassword)));
        Assert.StartsWith("250 2.0.0 Ok: queued as ",
            await SubmissionServer.SendAsync(client, "bob@local.test", "carol@local.test", "Subject: plain\r\n\r\nbody"));
        string body = Assert.Single(server.Context.Stored()).Body;
        Assert.Contains("\r\n\t(Authenticated sender: bob)\r\n\tby mx.test (AbilisFast) with ESMTPA id ", body);
    }

    [Theory]
    [InlineData("bob@local.test")]
    [InlineData("BOB@Local.Test")]
    [InlineData("bob@second.test")]
    [InlineData("bob+alerts@local.test")]
    [InlineData("sales@local.test")]
    [InlineData("Team@second.test")]
    public async Task TheUsersOwnMailboxNamesAreAccepted(string sender)
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectAuthenticatedAsync();
        Assert.Equal("250 2.1.0 Ok", await client.CommandAsync($"MAIL FROM:<{sender}>"));
    }

    [Theory]
    [InlineData("carol@local.test")]
    [InlineData("bob@elsewhere.test")]
    [InlineData("bobby@local.test")]
    [InlineData("carol+x@local.test")]
    [InlineData("postmaster@local.test")]
    [InlineData("")]
    public async Task OtherSendersAre553AtMail(string sender)
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectAuthenticatedAsync();
        Assert.Equal($"553 5.7.1 <{sender}>: Sender address rejected: not owned by user bob", await client.CommandAsync($"MAIL FROM:<{sender}>"));
        Assert.Equal("503 5.5.1 Error: need MAIL command", await client.CommandAsync("RCPT TO:<carol@local.test>"));
        Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<bob@local.test>"));
    }

    [Fact]
    public async Task AnySenderUsersMayUseEveryAddress()
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync("SUBMISSION-ANY-SENDER:alice,CAROL");
        await using (SmtpTestClient carol = await server.ConnectAuthenticatedAsync(SubmissionServer.Carol, SubmissionServer.CarolPassword))
        {
            Assert.Equal("250 2.1.0 Ok", await carol.CommandAsync("MAIL FROM:<printer@anywhere.test>"));
        }

        await using SmtpTestClient bob = await server.ConnectAuthenticatedAsync();
        Assert.StartsWith("553 5.7.1 ", await bob.CommandAsync("MAIL FROM:<printer@anywhere.test>"));
    }

    [Fact]
    public async Task RecipientsAnywhereAreRelayedWithoutRelayNetOnlyForSubmission()
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync("RELAY-NET:#", "RELAY-IPSRCLIST:#");
        await using (SmtpTestClient client = await server.ConnectAuthenticatedAsync())
        {
            Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<bob@local.test>"));
            Assert.Equal("250 2.1.5 Ok", await client.CommandAsync("RCPT TO:<friend@remote.example>"));
        }

        // The same user on the MTA port (RELAY-AUTH:DISABLED) may not relay.
        await using SmtpTestClient mta = await SmtpTestClient.ConnectGreetedAsync(server.Port);
        await mta.CommandAsync("EHLO client.test");
        Assert.Equal("220 2.0.0 Ready to start TLS", await mta.CommandAsync("STARTTLS"));
        await mta.StartTlsAsync();
        await mta.CommandAsync("EHLO client.test");
        Assert.StartsWith("235 ", await mta.CommandAsync("AUTH PLAIN " + TlsServer.Plain(SubmissionServer.Bob, SubmissionServer.BobPassword)));
        Assert.Equal("250 2.1.0 Ok", await mta.CommandAsync("MAIL FROM:<bob@local.test>"));
        Assert.StartsWith("554 5.7.1 ", await mta.CommandAsync("RCPT TO:<friend@remote.example>"));
    }

    [Fact]
    public async Task TheRateLimitIsPerUserAndRefusesMailWith450()
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync("SUBMISSION-RATE:2");
        await using SmtpTestClient bob = await server.ConnectAuthenticatedAsync();
        for (int i = 0; i < 2; i++)
        {
            Assert.StartsWith("250 2.0.0 Ok: queued as ",
                await SubmissionServer.SendAsync(bob, "bob@local.test", "carol@local.test", $"Subject: {i}\r\n\r\nbody"));
        }

        Assert.Equal("450 4.7.1 Error: too much mail from user bob (2 messages per minute), try again later",
            await bob.CommandAsync("MAIL FROM:<bob@local.test>"));

        // A second session of the same user shares the count; another user has its own.
        await using (SmtpTestClient again = await server.ConnectAuthenticatedAsync())
        {
            Assert.StartsWith("450 4.7.1 ", await again.CommandAsync("MAIL FROM:<bob@local.test>"));
        }

        await using SmtpTestClient carol = await server.ConnectAuthenticatedAsync(SubmissionServer.Carol, SubmissionServer.CarolPassword);
        Assert.Equal("250 2.1.0 Ok", await carol.CommandAsync("MAIL FROM:<carol@local.test>"));
        Assert.Equal(2, server.Context.Stored().Count);
    }

    [Fact]
    public async Task ReceivedNamesTheUserAndMissingDateAndMessageIdAreAddedAtTheEndOfTheHeader()
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectAuthenticatedAsync();
        Assert.StartsWith("250 2.0.0 Ok: queued as ",
            await SubmissionServer.SendAsync(client, "bob@local.test", "carol@local.test", "From: bob@local.test\r\nSubject: no date\r\n\r\nDate: in the body"));
        string body = Assert.Single(server.Context.Stored()).Body;
        Assert.StartsWith("Received: from client.test ([127.0.0.1])\r\n\t(Authenticated sender: bob)\r\n\tby mx.test (AbilisFast) with ESMTPSA id ", body);
        Assert.Matches(
            "\r\nFrom: bob@local.test\r\nSubject: no date\r\nDate: [A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000\r\n"
            + "Message-ID: <\\d+\\.[0-9A-F]{8}@mx\\.test>\r\n\r\nDate: in the body\r\n$", body);
    }

    [Fact]
    public async Task PresentDateAndMessageIdAreKeptWhateverTheirCase()
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectAuthenticatedAsync();
        const string text = "date : Sat, 05 Dec 2026 10:00:00 +0100\r\nMESSAGE-id: <x@device>\r\nSubject: kept\r\n\r\nbody\r\n";
        Assert.StartsWith("250 ", await SubmissionServer.SendAsync(client, "bob@local.test", "carol@local.test", text.TrimEnd('\r', '\n')));
        string body = Assert.Single(server.Context.Stored()).Body;
        Assert.EndsWith("\r\n" + text, body);
        Assert.DoesNotContain("Message-ID:", body);
    }

    [Fact]
    public async Task AMessageWithoutBodyGetsTheFieldsAtItsEnd()
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectAuthenticatedAsync();
        Assert.StartsWith("250 ", await SubmissionServer.SendAsync(client, "bob@local.test", "carol@local.test", "Subject: only a header\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000"));
        string body = Assert.Single(server.Context.Stored()).Body;
        Assert.Matches("\r\nSubject: only a header\r\nDate: Sat, 05 Dec 2026 10:00:00 \\+0000\r\nMessage-ID: <[^>]+@mx\\.test>\r\n$", body);
    }

    [Fact]
    public async Task BdatMessagesGetTheFieldsToo()
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectAuthenticatedAsync();
        Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<bob@local.test>"));
        Assert.Equal("250 2.1.5 Ok", await client.CommandAsync("RCPT TO:<carol@local.test>"));
        const string first = "Subject: chunked\r\nX-Split: on";
        const string second = "e\r\n\r\nbody\r\n";
        await client.SendAsync($"BDAT {first.Length}\r\n{first}");
        Assert.StartsWith("250 ", await client.ReadReplyAsync());
        await client.SendAsync($"BDAT {second.Length} LAST\r\n{second}");
        Assert.StartsWith("250 2.0.0 Ok: queued as ", await client.ReadReplyAsync());
        string body = Assert.Single(server.Context.Stored()).Body;
        Assert.Matches("\r\nSubject: chunked\r\nX-Split: one\r\nDate: [^\r]+\r\nMessage-ID: <[^>]+>\r\n\r\nbody\r\n$", body);
    }

    [Fact]
    public async Task TheMtaPortAddsNoFieldsAndNeedsNoAuth()
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync();
        await using SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(server.Port);
        await client.CommandAsync("EHLO client.test");
        Assert.StartsWith("250 ", await SubmissionServer.SendAsync(client, "anyone@client.test", "carol@local.test", "Subject: mta\r\n\r\nbody"));
        string body = Assert.Single(server.Context.Stored()).Body;
        Assert.DoesNotContain("Message-ID:", body);
        Assert.DoesNotContain("Authenticated sender", body);
    }

    [Theory]
    [InlineData("SUBMISSION-TLS:YES", "530 5.7.0 Authentication required")]
    [InlineData("SUBMISSION-TLS:NO", "250 2.1.0 Ok")]
    public async Task TheImplicitTlsPortFollowsSubmissionTls(string parameter, string expected)
    {
        await using SubmissionServer server = await SubmissionServer.StartAsync(parameter);
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.TlsPort, implicitTls: true);
        Assert.StartsWith("220 mx.test ESMTP", await client.ReadReplyAsync());
        Assert.Contains("250-AUTH PLAIN LOGIN", await client.CommandAsync("EHLO client.test"));
        Assert.Equal(expected, await client.CommandAsync("MAIL FROM:<carol@local.test>"));
        if (expected.StartsWith("530", StringComparison.Ordinal))
        {
            Assert.StartsWith("235 ", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(SubmissionServer.Bob, SubmissionServer.BobPassword)));
            Assert.StartsWith("553 5.7.1 ", await client.CommandAsync("MAIL FROM:<carol@local.test>"));
            Assert.StartsWith("250 ", await SubmissionServer.SendAsync(client, "bob@local.test", "friend@remote.example", "Subject: smtps\r\n\r\nbody"));
            Assert.Contains("with ESMTPSA id ", Assert.Single(server.Context.Stored()).Body);
        }
    }

    [Fact]
    public async Task AuthFailuresOnTheSubmissionPortFeedIpBan()
    {
        var bans = new RecordingBans();
        await using SubmissionServer server = await SubmissionServer.StartAsync(bans);
        await using SmtpTestClient client = await server.ConnectTlsAsync();
        Assert.StartsWith("535 5.7.8 ", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(SubmissionServer.Bob, "wrong")));
        (IPAddress address, string what) = Assert.Single(bans.Failures);
        Assert.True(IPAddress.IsLoopback(address));
        Assert.Equal("smtp auth", what);
    }

    [Fact]
    public async Task ABannedAddressIsDroppedAtTheSubmissionPort()
    {
        var bans = new RecordingBans { Banned = true };
        await using SubmissionServer server = await SubmissionServer.StartAsync(bans);
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.SubmissionPort);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
    }

    private sealed class RecordingBans : IBanList
    {
        public bool Banned { get; init; }

        public ConcurrentQueue<(IPAddress, string)> Failures { get; } = new();

        public bool IsBanned(IPAddress address) => Banned;

        public void RecordFailure(IPAddress address, string what) => Failures.Enqueue((address, what));
    }
}
