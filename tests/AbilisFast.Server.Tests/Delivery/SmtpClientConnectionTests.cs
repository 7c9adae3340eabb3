namespace AbilisFast.Server.Tests.Delivery;

/// <summary>
/// The OUT side's SMTP client against scripted servers on loopback: what it sends (pipelined or
/// not, parameters, dot-stuffed text) and how it takes odd, broken or missing replies.
/// </summary>
public sealed class SmtpClientConnectionTests
{
    private const string Ehlo = "250-mx.peer.test hello\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250-8BITMIME\r\n250-DSN\r\n250 SMTPUTF8\r\n";

    private static readonly SmtpClientOptions Options = new()
    {
        HeloHost = "out.test",
        ConnectTimeout = TimeSpan.FromSeconds(2),
        CommandTimeout = TimeSpan.FromSeconds(5),
        DataTimeout = TimeSpan.FromSeconds(5),
    };

    private static OutboundMessage Message(string body, params string[] recipients) => Message(body, recipients.Select(r => new OutboundRecipient(r)).ToArray());

    private static OutboundMessage Message(string body, OutboundRecipient[] recipients, bool eightBit = false, bool utf8 = false) => new()
    {
        Sender = "s@out.test",
        Recipients = recipients,
        Size = Encoding.UTF8.GetByteCount(body),
        EightBit = eightBit,
        SmtpUtf8 = utf8,
        OpenBody = () => new MemoryStream(Encoding.UTF8.GetBytes(body)),
    };

    /// <summary>Greeting and EHLO with the given capability reply.</summary>
    /// <summary>A connection to <paramref name="peer"/> with <see cref="Options"/> (or <paramref name="options"/>), no state callback.</summary>
    private static Task<SmtpClientConnection> ConnectAsync(ScriptedSmtpPeer peer, SmtpClientOptions? options = null) =>
        SmtpClientConnection.ConnectAsync(peer.EndPoint, options ?? Options, null, default);

    private static async Task HelloAsync(ScriptedSmtpPeer peer, string ehloReply = Ehlo)
    {
        await peer.SendAsync("220 mx.peer.test ESMTP\r\n");
        await peer.ExpectAsync("EHLO out.test", ehloReply);
    }

    [Fact]
    public async Task PipelinedTransactionSendsMailRcptAndDataBeforeReadingAnyReply()
    {
        string? data = null;
        await using var peer = new ScriptedSmtpPeer(async p =>
        {
            await HelloAsync(p);
            // No reply until all of MAIL, both RCPTs and DATA are here: a client that waits would time out.
            Assert.Equal("MAIL FROM:<s@out.test> SIZE=20 BODY=8BITMIME RET=HDRS ENVID=e+2B1\r\n", await p.ReadLineAsync());
            Assert.Equal("RCPT TO:<a@peer.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;a@peer.test\r\n", await p.ReadLineAsync());
            Assert.Equal("RCPT TO:<b@peer.test>\r\n", await p.ReadLineAsync());
            await p.ExpectAsync("DATA", "250 2.1.0 ok\r\n550 5.1.1 no such user\r\n250 2.1.5 ok\r\n354 go\r\n");
            data = await p.ReadDataAsync();
            await p.SendAsync("250 2.0.0 queued\r\n");
            await p.ExpectAsync("QUIT", "221 bye\r\n");
        });

        var states = new List<SmtpState>();
        await using SmtpClientConnection client = await SmtpClientConnection.ConnectAsync(peer.EndPoint, Options, (s, _) => states.Add(s), default);
        Assert.True(client.Capabilities.Pipelining && client.Capabilities.Dsn && client.Capabilities.EightBitMime);
        Assert.Equal(100000, client.Capabilities.MaxSize);
        var message = new OutboundMessage
        {
            Sender = "s@out.test",
            Recipients = [new OutboundRecipient("a@peer.test", DsnNotify.Failure | DsnNotify.Delay, "rfc822;a@peer.test"), new OutboundRecipient("b@peer.test")],
            Size = 20,
            EightBit = true,
            EnvelopeId = "e+2B1",
            Return = DsnReturn.Headers,
            OpenBody = () => new MemoryStream("Subject: x\r\n\r\ncaf\u00e9\r\n"u8.ToArray()),
        };
        TransactionResult result = await client.SendAsync(message, default);
        await client.QuitAsync(default);
        await peer.Completion;

        Assert.Equal(550, result.FinalReplyFor(0).Code);
        Assert.Equal("5.1.1", result.FinalReplyFor(0).EnhancedStatus);
        Assert.Equal(250, result.FinalReplyFor(1).Code);
        Assert.Equal("2.0.0 queued", result.FinalReplyFor(1).Text);
        Assert.Equal("Subject: x\r\n\r\ncaf\u00c3\u00a9\r\n.\r\n", data);
        Assert.Equal([SmtpState.WaitConn, SmtpState.WaitConn, SmtpState.Helo, SmtpState.Mail, SmtpState.Rcpt, SmtpState.Data, SmtpState.Text, SmtpState.Eot, SmtpState.Quit, SmtpState.Ended], states);
    }

    [Fact]
    public async Task TheTextIsDotStuffedAndBareLineEndsBecomeCrLf()
    {
        string? data = null;
        await using var peer = new ScriptedSmtpPeer(async p =>
        {
            await HelloAsync(p, "250 mx.peer.test\r\n");
            data = await p.ExpectTransactionAsync("s@out.test", "a@peer.test");
            await p.SendAsync("250 ok\r\n");
        });

        await using SmtpClientConnection client = await ConnectAsync(peer);
        Assert.False(client.Capabilities.Pipelining);
        TransactionResult result = await client.SendAsync(Message(".lead\n..two\rbare cr\r\n.\r\nno final line end", "a@peer.test"), default);
        await peer.Completion;

        Assert.True(result.FinalReplyFor(0).IsPositive);
        Assert.Equal("..lead\r\n...two\r\nbare cr\r\n..\r\nno final line end\r\n.\r\n", data);
        Assert.DoesNotMatch("[^\r]\n|\r[^\n]", data!);
    }

    [Fact]
    public async Task EhloRefusedFallsBackToHeloAndUsesNoExtension()
    {
        await using var peer = new ScriptedSmtpPeer(async p =>
        {
            await p.SendAsync("220 old.peer.test\r\n");
            await p.ExpectAsync("EHLO out.test", "502 5.5.1 what?\r\n");
            await p.ExpectAsync("HELO out.test", "250 old.peer.test\r\n");
            await p.ExpectTransactionAsync("s@out.test", "a@peer.test");
            await p.SendAsync("250 ok\r\n");
        });

        await using SmtpClientConnection client = await ConnectAsync(peer);
        Assert.False(client.Capabilities.Extended);
        TransactionResult result = await client.SendAsync(Message("x\r\n", [new OutboundRecipient("a@peer.test", DsnNotify.Never)], eightBit: true), default);
        await peer.Completion;
        Assert.True(result.FinalReplyFor(0).IsPositive);
    }

    [Fact]
    public async Task TwoMessagesShareTheConnectionAndARefusedMailIsReset()
    {
        await using var peer = new ScriptedSmtpPeer(async p =>
        {
            await HelloAsync(p, "250-mx\r\n250 PIPELINING\r\n");
            Assert.Equal("MAIL FROM:<s@out.test>\r\n", await p.ReadLineAsync());
            await p.ReadLineAsync();
            await p.ReadLineAsync();
            await p.SendAsync("452 4.3.1 come back later\r\n503 5.5.1 no MAIL\r\n503 5.5.1 no valid recipients\r\n");
            await p.ExpectAsync("RSET", "250 2.0.0 reset\r\n");
            Assert.Equal("MAIL FROM:<s@out.test>\r\n", await p.ReadLineAsync());
            await p.ReadLineAsync();
            await p.ReadLineAsync();
            await p.SendAsync("250 ok\r\n250 ok\r\n354 go\r\n");
            await p.ReadDataAsync();
            await p.SendAsync("250 ok\r\n");
        });

        await using SmtpClientConnection client = await ConnectAsync(peer);
        TransactionResult first = await client.SendAsync(Message("x\r\n", "a@peer.test"), default);
        Assert.Equal(452, first.FinalReplyFor(0).Code);
        Assert.True(first.FinalReplyFor(0).IsTransient);
        Assert.True(client.IsUsable);
        TransactionResult second = await client.SendAsync(Message("y\r\n", "a@peer.test"), default);
        Assert.True(second.FinalReplyFor(0).IsPositive);
        await peer.Completion;
    }

    [Theory]
    [InlineData("250-first\r\n251 second\r\n", "code 251 inside a 250 reply")]
    [InlineData("hello\r\n", "no reply code")]
    [InlineData("250x ok\r\n", "neither ' ' nor '-'")]
    [InlineData("250-multi\r\n250-line\r\n", "connection closed in the middle of a reply")]
    [InlineData("", "connection closed by the server")]
    public async Task AMalformedOrTruncatedReplyIsATemporaryFailureNotACrash(string reply, string expected)
    {
        await using var peer = new ScriptedSmtpPeer(async p =>
        {
            await HelloAsync(p);
            await p.ReadLineAsync();
            await p.SendAsync(reply);
            p.Close();
        });

        await using SmtpClientConnection client = await ConnectAsync(peer);
        SmtpClientException e = await Assert.ThrowsAsync<SmtpClientException>(() => client.SendAsync(Message("x\r\n", "a@peer.test"), default));
        Assert.Contains(expected, e.Message);
        Assert.False(e.IsPermanent);
        Assert.False(client.IsUsable);
    }

    [Fact]
    public async Task A421StandsForEveryLaterReplyAndEndsTheConnection()
    {
        await using var peer = new ScriptedSmtpPeer(async p =>
        {
            await HelloAsync(p, "250 mx\r\n");
            await p.ExpectStartAsync("MAIL", "250 ok\r\n");
            await p.ExpectStartAsync("RCPT TO:<a@", "421 4.3.2 shutting down\r\n");
            p.Close();
        });

        await using SmtpClientConnection client = await ConnectAsync(peer);
        TransactionResult result = await client.SendAsync(Message("x\r\n", "a@peer.test", "b@peer.test"), default);
        Assert.Equal(421, result.FinalReplyFor(0).Code);
        Assert.Equal(421, result.FinalReplyFor(1).Code);
        Assert.False(client.IsUsable);
        await peer.Completion;
    }

    [Fact]
    public async Task ASilentServerTimesOut()
    {
        await using var peer = new ScriptedSmtpPeer(async p =>
        {
            await HelloAsync(p);
            await p.ReadToEndAsync();
        });

        var quick = new SmtpClientOptions { HeloHost = "out.test", CommandTimeout = TimeSpan.FromMilliseconds(300) };
        await using SmtpClientConnection client = await ConnectAsync(peer, quick);
        SmtpClientException e = await Assert.ThrowsAsync<SmtpClientException>(() => client.SendAsync(Message("x\r\n", "a@peer.test"), default));
        Assert.Equal("no reply within 0.3 s", e.Message);
        Assert.False(client.IsUsable);
    }

    [Fact]
    public async Task LimitsTheServerAnnouncedAreRefusedBeforeSending()
    {
        await using var peer = new ScriptedSmtpPeer(async p =>
        {
            await HelloAsync(p, "250-mx\r\n250 SIZE 10\r\n");
            await p.ExpectAsync("QUIT", "221 bye\r\n");
        });

        await using SmtpClientConnection client = await ConnectAsync(peer);
        TransactionResult big = await client.SendAsync(Message("more than ten octets\r\n", "a@peer.test"), default);
        Assert.Equal(552, big.FinalReplyFor(0).Code);
        Assert.Equal("5.3.4", big.FinalReplyFor(0).EnhancedStatus);
        TransactionResult utf8 = await client.SendAsync(Message("x\r\n", [new OutboundRecipient("j\u00f6rg@peer.test")], utf8: true), default);
        Assert.Equal("5.6.7", utf8.FinalReplyFor(0).EnhancedStatus);
        Assert.True(utf8.FinalReplyFor(0).IsPermanent);
        await client.QuitAsync(default);
        await peer.Completion;
    }

    [Fact]
    public async Task ARefusedGreetingIsAnErrorWithTheReply()
    {
        await using var peer = new ScriptedSmtpPeer(async p =>
        {
            await p.SendAsync("554-5.7.1 no mail from you\r\n554 5.7.1 go away\r\n");
            await p.ExpectAsync("QUIT", "221 bye\r\n");
        });

        SmtpClientException e = await Assert.ThrowsAsync<SmtpClientException>(() => SmtpClientConnection.ConnectAsync(peer.EndPoint, Options, null, default));
        Assert.True(e.IsPermanent);
        Assert.Equal("554 5.7.1 no mail from you 5.7.1 go away", e.Reply!.ToString());
        await peer.Completion;
    }

    [Fact]
    public async Task ARefusedConnectionIsATemporaryError()
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, ServerProcess.FreePort());
        SmtpClientException e = await Assert.ThrowsAsync<SmtpClientException>(() => SmtpClientConnection.ConnectAsync(endpoint, Options, null, default));
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(e.IsPermanent);
    }

    private static SmtpClientOptions Secure(OutboundSecurity security, NetworkCredential? credentials = null, List<string>? trace = null, bool allowPlaintextAuth = false) => new()
    {
        AllowPlaintextAuth = allowPlaintextAuth,
        HeloHost = "out.test",
        ConnectTimeout = TimeSpan.FromSeconds(2),
        CommandTimeout = TimeSpan.FromSeconds(5),
        Security = security,
        Verification = TlsVerification.None, // the peer's certificate is self-signed: TLS verification has its own tests
        TlsHost = "relay.test",
        Credentials = credentials,
        Trace = trace is null ? null : line => trace.Add(line),
    };

    [Fact]
    public async Task StartTlsThenEhloAgainThenAuthPlainAndTheMessageGoesOverTls()
    {
        string? auth = null;
        await using var peer = new ScriptedSmtpPeer(async p =>
        {
            await HelloAsync(p, "250-relay.test\r\n250-STARTTLS\r\n250 AUTH LOGIN\r\n"); // AUTH PLAIN only after TLS
            await p.ExpectAsync("STARTTLS", "220 2.0.0 go ahead\r\n");
            await p.UpgradeToTlsAsync();
            await p.ExpectAsync("EHLO out.test", "250-relay.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n");
            auth = await p.ReadLineAsync();
            await p.SendAsync("235 2.7.0 ok\r\n");
            Assert.StartsWith("MAIL FROM:", await p.ReadLineAsync());
            await p.ReadLineAsync();
            await p.ReadLineAsync();
            await p.SendAsync("250 ok\r\n250 ok\r\n354 go\r\n");
            Assert.Equal("secret text\r\n.\r\n", await p.ReadDataAsync());
            await p.SendAsync("250 ok\r\n");
        });

        var trace = new List<string>();
        await using SmtpClientConnection client = await SmtpClientConnection.ConnectAsync(peer.EndPoint,
            Secure(OutboundSecurity.StartTls, new NetworkCredential("relay-user", "p\u00e4ss"), trace), null, default);
        Assert.StartsWith("Tls", client.TlsInfo);
        Assert.Contains("certificate not verified", client.TlsInfo);
        TransactionResult result = await client.SendAsync(Message("secret text\r\n", "a@peer.test"), default);
        await peer.Completion;

        Assert.True(result.FinalReplyFor(0).IsPositive);
        Assert.Equal("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0relay-user\0p\u00e4ss")) + "\r\n", auth);
        string received = peer.Received.ToString();
        Assert.DoesNotContain("secret text", received[..received.IndexOf("--- TLS ---", StringComparison.Ordinal)]);
        Assert.Contains(">>> AUTH PLAIN ****", trace);
        Assert.DoesNotContain(trace, line => line.Contains(auth![11..^2], StringComparison.Ordinal));
    }

    [Fact]
    public async Task ImplicitTlsAndAuthLogin()
    {
        var steps = new List<string?>();
        await using var peer = new ScriptedSmtpPeer(async p =>
        {
            await p.UpgradeToTlsAsync();
            await HelloAsync(p, "250-relay.test\r\n250 AUTH=LOGIN\r\n");
            steps.Add(await p.ReadLineAsync());
            await p.SendAsync("334 VXNlcm5hbWU6\r\n");
            steps.Add(await p.ReadLineAsync());
            await p.SendAsync("334 UGFzc3dvcmQ6\r\n");
            steps.Add(await p.ReadLineAsync());
            await p.SendAsync("235 2.7.0 ok\r\n");
            await p.ExpectAsync("QUIT", "221 bye\r\n");
        });

        await using SmtpClientConnection client = await SmtpClientConnection.ConnectAsync(peer.EndPoint,
            Secure(OutboundSecurity.Tls, new NetworkCredential("u", "pw")), null, default);
        await client.QuitAsync(default);
        await peer.Completion;
        Assert.Equal(["AUTH LOGIN\r\n", "dQ==\r\n", "cHc=\r\n"], steps);
        Assert.NotNull(client.TlsInfo);
    }

    [Fact]
    public async Task RequiredStartTlsNotOfferedAndRefusedAuthAreTemporaryFailures()
    {
        await using (var plain = new ScriptedSmtpPeer(async p =>
        {
            await HelloAsync(p, "250-relay.test\r\n250 AUTH PLAIN\r\n");
            await p.ExpectAsync("QUIT", "221 bye\r\n");
        }))
        {
            SmtpClientException e = await Assert.ThrowsAsync<SmtpClientException>(() => SmtpClientConnection.ConnectAsync(plain.EndPoint, Secure(OutboundSecurity.StartTls), null, default));
            Assert.Equal("SERVER-SECURITY is STARTTLS but the server does not offer STARTTLS", e.Message);
            Assert.False(e.IsPermanent);
            await plain.Completion;
        }

        await using var refusing = new ScriptedSmtpPeer(async p =>
        {
            await HelloAsync(p, "250-relay.test\r\n250 AUTH PLAIN\r\n");
            await p.ExpectStartAsync("AUTH PLAIN ", "535 5.7.8 authentication failed\r\n");
            await p.ExpectAsync("QUIT", "221 bye\r\n");
        });
        SmtpClientException refused = await Assert.ThrowsAsync<SmtpClientException>(() =>
            SmtpClientConnection.ConnectAsync(refusing.EndPoint, Secure(OutboundSecurity.None, new NetworkCredential("u", "wrong"), allowPlaintextAuth: true), null, default));
        Assert.Equal("authentication as u refused: 535 5.7.8 authentication failed", refused.Message);
        Assert.False(refused.IsPermanent);
        Assert.Equal(454, refused.Reply!.Code);
        await refusing.Completion;
    }

    [Fact]
    public async Task CredentialsNeverGoOutWithoutTlsUnlessAllowed()
    {
        var received = new List<string>();
        await using var plain = new ScriptedSmtpPeer(async p =>
        {
            await HelloAsync(p, "250-relay.test\r\n250 AUTH PLAIN LOGIN\r\n");
            string? line;
            while ((line = await p.ReadLineAsync()) is not null)
            {
                received.Add(line);
                if (line == "QUIT\r\n")
                {
                    await p.SendAsync("221 bye\r\n");
                    break;
                }
            }
        });
        SmtpClientException e = await Assert.ThrowsAsync<SmtpClientException>(() =>
            SmtpClientConnection.ConnectAsync(plain.EndPoint, Secure(OutboundSecurity.None, new NetworkCredential("u", "secret")), null, default));
        Assert.Equal("SERVER-AUTH is YES but the connection has no TLS: set SERVER-SECURITY:STARTTLS or TLS (or SERVER-AUTH-PLAINTEXT:YES)", e.Message);
        Assert.False(e.IsPermanent);
        Assert.Equal("4.7.0", e.Status);
        await plain.Completion;
        Assert.DoesNotContain(received, l => l.StartsWith("AUTH", StringComparison.Ordinal));
        Assert.Equal(["QUIT\r\n"], received);
    }
}
