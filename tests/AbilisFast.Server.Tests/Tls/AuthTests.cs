namespace AbilisFast.Server.Tests.Tls;

/// <summary>SMTP AUTH PLAIN and LOGIN (RFC 4954) over real loopback sockets, mostly under STARTTLS.</summary>
public sealed class AuthTests
{
    [Fact]
    public async Task PlainWithInitialResponseAuthenticatesAndMarksTheReceivedHeader()
    {
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectTlsAsync();
        Assert.Equal("235 2.7.0 Authentication successful", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword)));
        Assert.Equal("503 5.5.1 Error: already authenticated", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword)));
        await client.SendQueuedAsync("bob@client.test", "b@local.test", "Subject: a\r\n\r\nbody\r\n");
        Assert.Contains("(AbilisFast) with ESMTPSA id ", Assert.Single(server.Context.Stored()).Body);
    }

    [Fact]
    public async Task PlainWithAChallenge()
    {
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectTlsAsync();
        Assert.Equal("334 ", await client.CommandAsync("AUTH PLAIN"));
        Assert.Equal("235 2.7.0 Authentication successful", await client.CommandAsync(TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword, authzid: TlsServer.MailUser)));
    }

    [Fact]
    public async Task LoginWithAndWithoutInitialUser()
    {
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectTlsAsync();
        Assert.Equal("334 VXNlcm5hbWU6", await client.CommandAsync("auth login"));
        Assert.Equal("334 UGFzc3dvcmQ6", await client.CommandAsync(TlsServer.Base64(TlsServer.MailUser)));
        Assert.Equal("535 5.7.8 Error: authentication credentials invalid", await client.CommandAsync(TlsServer.Base64("wrong")));
        Assert.Equal("334 UGFzc3dvcmQ6", await client.CommandAsync("AUTH LOGIN " + TlsServer.Base64(TlsServer.MailUser)));
        Assert.Equal("235 2.7.0 Authentication successful", await client.CommandAsync(TlsServer.Base64(TlsServer.MailPassword)));
    }

    [Theory]
    [InlineData("AUTH PLAIN", "*", "501 5.7.0 Authentication cancelled")]
    [InlineData("AUTH LOGIN", "*", "501 5.7.0 Authentication cancelled")]
    [InlineData("AUTH PLAIN", "not base64!", "501 5.5.2 Error: cannot decode the base64 response")]
    [InlineData("AUTH LOGIN", "Ym9i=", "501 5.5.2 Error: cannot decode the base64 response")]
    public async Task CancelAndBadBase64(string command, string response, string expected)
    {
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectTlsAsync();
        Assert.StartsWith("334 ", await client.CommandAsync(command));
        Assert.Equal(expected, await client.CommandAsync(response));

        // The exchange is over: the next line is a command again, and AUTH may be tried again.
        Assert.Equal("250 2.0.0 Ok", await client.CommandAsync("NOOP"));
        Assert.Equal("235 2.7.0 Authentication successful", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword)));
    }

    [Theory]
    [InlineData("AUTH", "501 5.5.4 Syntax: AUTH mechanism [initial-response]")]
    [InlineData("AUTH CRAM-MD5", "504 5.5.4 Unrecognized authentication mechanism (PLAIN or LOGIN)")]
    [InlineData("AUTH PLAIN *", "501 5.7.0 Authentication cancelled")]
    [InlineData("AUTH PLAIN AGJvYgBz====", "501 5.5.2 Error: cannot decode the base64 response")]
    public async Task MalformedAuthCommands(string command, string expected)
    {
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectTlsAsync();
        Assert.Equal(expected, await client.CommandAsync(command));
    }

    [Fact]
    public async Task AuthDuringATransactionIs503()
    {
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectTlsAsync();
        Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<a@client.test>"));
        Assert.Equal("503 5.5.1 Error: bad sequence of commands", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword)));
    }

    [Theory]
    [InlineData(TlsServer.AdminUser, TlsServer.AdminPassword)]
    [InlineData(TlsServer.MailUser, "wrong")]
    [InlineData("nobody", "whatever")]
    public async Task WrongPasswordUnknownUserAndConsoleAccountsAre535(string user, string password)
    {
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectTlsAsync();
        Assert.Equal("535 5.7.8 Error: authentication credentials invalid", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(user, password)));
    }

    [Fact]
    public async Task ProxyAuthorizationIdentityIsRefused()
    {
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectTlsAsync();
        Assert.Equal("535 5.7.8 Error: authentication credentials invalid", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword, authzid: "root")));
    }

    [Fact]
    public async Task AuthBeforeTlsNeedsAuthPlaintext()
    {
        await using (TlsServer server = await TlsServer.StartAsync())
        {
            await using SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(server.Port);
            Assert.DoesNotContain("AUTH", await client.CommandAsync("EHLO client.test"));
            Assert.Equal("538 5.7.11 Encryption required for requested authentication mechanism", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword)));
        }

        await using (TlsServer server = await TlsServer.StartAsync("AUTH-PLAINTEXT:YES"))
        {
            await using SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(server.Port);
            Assert.Contains("250-AUTH PLAIN LOGIN", await client.CommandAsync("EHLO client.test"));
            Assert.Equal("235 2.7.0 Authentication successful", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword)));
            await client.SendQueuedAsync("a@client.test", "b@local.test", "Subject: a\r\n\r\nbody\r\n");
            Assert.Contains("with ESMTPA id ", Assert.Single(server.Context.Stored()).Body);
        }
    }

    [Theory]
    [InlineData("ENABLED", true)]
    [InlineData("DISABLED", false)]
    public async Task RelayAuthLetsAuthenticatedClientsRelay(string relayAuth, bool relays)
    {
        await using TlsServer server = await TlsServer.StartAsync($"RELAY-AUTH:{relayAuth}");
        await using SmtpTestClient client = await server.ConnectTlsAsync();
        Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<a@client.test>"));
        Assert.Equal("554 5.7.1 Error: relay access denied", await client.CommandAsync("RCPT TO:<x@remote.example>"));
        Assert.StartsWith("250", await client.CommandAsync("RSET"));
        Assert.Equal("235 2.7.0 Authentication successful", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword)));
        Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<a@client.test>"));
        Assert.Equal(relays ? "250 2.1.5 Ok" : "554 5.7.1 Error: relay access denied", await client.CommandAsync("RCPT TO:<x@remote.example>"));
    }

    [Fact]
    public async Task FailedAuthFeedsIpBanUntilTheAddressIsBanned()
    {
        string banDir = Path.Combine(Path.GetTempPath(), "abilisfast-ban-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(banDir);
        try
        {
            var bans = new IpBanService(banDir, TimeProvider.System, IpBanOptions.Default with { MaxFail = 3, WhiteList = IpAccessList.Empty });
            await using TlsServer server = await TlsServer.StartAsync(bans, "MAX-IP-SES:5");
            await using SmtpTestClient client = await server.ConnectTlsAsync();
            string bad = "AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, "wrong");
            Assert.Equal("535 5.7.8 Error: authentication credentials invalid", await client.CommandAsync(bad));
            Assert.Equal(1, bans.TrackedAddresses);
            Assert.False(bans.IsBanned(IPAddress.Loopback));
            Assert.Equal("535 5.7.8 Error: authentication credentials invalid", await client.CommandAsync(bad));
            Assert.Equal("535 5.7.8 Error: authentication credentials invalid\n421 4.7.0 Error: too many failed authentications", await ReadTwoAsync(client, bad));
            Assert.True(await client.IsClosedAsync());
            Assert.True(bans.IsBanned(IPAddress.Loopback));
            Assert.Equal("smtp auth", Assert.Single(bans.List()).Reason);

            // The next connection is dropped at accept and counted BANNED-IP.
            await using SmtpTestClient next = await SmtpTestClient.ConnectAsync(server.Port);
            Assert.Null(await next.ReadReplyAsync());
            Assert.Equal(1, server.Context.Context.Counters.Get(SmtpCounter.BannedIp, Direction.In));
        }
        finally
        {
            Directory.Delete(banDir, recursive: true);
        }
    }

    [Fact]
    public async Task TheTraceNeverShowsCredentials()
    {
        await using TlsServer server = await TlsServer.StartAsync("AUTH-PLAINTEXT:YES");
        server.Context.Log.Verbose = true;
        await using SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(server.Port);
        string plain = TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword);
        Assert.Equal("535 5.7.8 Error: authentication credentials invalid", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, "wrong-one")));
        Assert.Equal("334 VXNlcm5hbWU6", await client.CommandAsync("AUTH LOGIN"));
        Assert.Equal("334 UGFzc3dvcmQ6", await client.CommandAsync(TlsServer.Base64(TlsServer.MailUser)));
        Assert.Equal("235 2.7.0 Authentication successful", await client.CommandAsync(TlsServer.Base64(TlsServer.MailPassword)));
        string log = server.Context.Log.SnapshotText();
        AssertText.ContainsAll(
            log,
            "<- AUTH PLAIN [initial response not logged]",
            "<- [AUTH response not logged]",
            "AUTH: 127.0.0.1 failed to authenticate as 'bob'",
            "AUTH: 127.0.0.1 authenticated as 'bob'");
        Assert.DoesNotContain(TlsServer.MailPassword, log);
        Assert.DoesNotContain("wrong-one", log);
        Assert.DoesNotContain(plain, log);
        Assert.DoesNotContain(TlsServer.Base64(TlsServer.MailPassword), log);
        Assert.DoesNotContain(TlsServer.Plain(TlsServer.MailUser, "wrong-one"), log);
    }

    [Fact]
    public async Task MailAuthParameterIsTrustedOnlyAfterAuthentication()
    {
        // RFC 4954 5: AUTH=<> and AUTH=xtext are accepted wherever AUTH is offered.
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await server.ConnectTlsAsync();
        Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<a@client.test> AUTH=boss+2Bx@client.test"));
        Assert.Equal("250 2.0.0 Ok: reset", await client.CommandAsync("RSET"));
        Assert.Equal("235 2.7.0 Authentication successful", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword)));
        Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<x@client.test> AUTH=<>"));
        Assert.Equal("250 2.0.0 Ok: reset", await client.CommandAsync("RSET"));
        await client.SendQueuedAsync("<bob@client.test> auth=bob@client.test SIZE=10", "b@local.test", "Subject: a\r\n\r\nbody\r\n");
        Assert.Equal("501 5.5.4 Malformed AUTH= parameter (<> or xtext, RFC 4954)", await client.CommandAsync("MAIL FROM:<bob@client.test> AUTH=a+zz"));
        Assert.Equal("555 5.5.4 Unsupported or malformed MAIL/RCPT parameter", await client.CommandAsync("MAIL FROM:<bob@client.test> AUTH=<> AUTH=<>"));
        string log = server.Context.Log.SnapshotText();
        Assert.Contains("AUTH: MAIL FROM AUTH=boss+2Bx@client.test not trusted, taken as AUTH=<> (the client has not authenticated)", log);
        Assert.Contains("AUTH: MAIL FROM AUTH=<> trusted (the client authenticated as bob)", log);
        Assert.Contains("AUTH: MAIL FROM AUTH=bob@client.test trusted (the client authenticated as bob)", log);
    }

    [Fact]
    public async Task MailAuthParameterIsUnknownWhereAuthIsNotOffered()
    {
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(server.Port);
        Assert.DoesNotContain("AUTH", await client.CommandAsync("EHLO client.test"));
        Assert.Equal("555 5.5.4 Unsupported or malformed MAIL/RCPT parameter", await client.CommandAsync("MAIL FROM:<a@client.test> AUTH=<>"));
    }

    private static async Task<string?> ReadTwoAsync(SmtpTestClient client, string command)
    {
        await client.SendAsync(command + "\r\n");
        return await client.ReadReplyAsync() + "\n" + await client.ReadReplyAsync();
    }
}
