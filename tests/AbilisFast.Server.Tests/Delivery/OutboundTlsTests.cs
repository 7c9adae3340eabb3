namespace AbilisFast.Server.Tests.Delivery;

/// <summary>
/// TLS on the OUT side, in process over loopback: the relay server's certificate checked against
/// a test CA (SERVER-TLS-CA), a wrong name, a self-signed certificate, SERVER-TLS-VERIFY NO and PIN;
/// opportunistic STARTTLS toward MX hosts (MX-TLS), with a plain-text second try when the handshake
/// fails. Names come from a <see cref="TestDnsServer"/> (DNS parameter), never the system resolver.
/// </summary>
public sealed class OutboundTlsTests : IAsyncLifetime
{
    private readonly TestDnsServer _dns = new(Answer);
    private TestServerContext _a = null!;
    private DeliveryEngine? _engine;
    private string? _caDir;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }

        _a?.Dispose();
        _dns.Dispose();
        if (_caDir is not null)
        {
            Directory.Delete(_caDir, recursive: true);
        }
    }

    /// <summary>SERVER-TLS-CA naming a PEM file of the test root CA, in a folder of the test's own (removed at the end).</summary>
    private string ServerTlsCa()
    {
        _caDir ??= Directory.CreateTempSubdirectory("abilisfast-ca-").FullName;
        return $"SERVER-TLS-CA:{TestCertificates.WriteRootPem(_caDir)}";
    }

    /// <summary>localhost and relay.test are 127.0.0.1; far.test's MX is 127.0.0.1, stuck.test's 127.0.0.2.</summary>
    private static TestDnsReply? Answer(string name, ushort type) => (name, type) switch
    {
        ("localhost" or "relay.test" or "mx.far.test", TestDnsServer.TypeA) => TestDnsReply.With(TestDnsRecord.A(name, "127.0.0.1")),
        ("mx.stuck.test", TestDnsServer.TypeA) => TestDnsReply.With(TestDnsRecord.A(name, "127.0.0.2")),
        ("far.test", TestDnsServer.TypeMx) => TestDnsReply.With(TestDnsRecord.Mx(name, 10, "mx.far.test")),
        ("stuck.test", TestDnsServer.TypeMx) => TestDnsReply.With(TestDnsRecord.Mx(name, 10, "mx.stuck.test")),
        ("localhost" or "relay.test" or "mx.far.test" or "mx.stuck.test" or "far.test" or "stuck.test", _) => TestDnsReply.NoData,
        _ => TestDnsReply.NxDomain,
    };

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private void StartA(params string[] parameters)
    {
        _a = new TestServerContext(["LOCAL-DOMAIN:a.test", "RELAY-NET:127/8", "MAIL-TRY-DELAY:3600", $"DNS:127.0.0.1:{Port(_dns.EndPoint.Port)}", .. parameters]);
        _engine = new DeliveryEngine(_a.Context, new LiveRouteResolver(_a.Context), _a.Mailboxes)
        {
            ConnectTimeout = TimeSpan.FromSeconds(2),
            CommandTimeout = TimeSpan.FromSeconds(5),
            DataTimeout = TimeSpan.FromSeconds(5),
        };
        _engine.Start();
    }

    /// <summary>A relay server at <paramref name="peer"/> under the name <paramref name="server"/>.</summary>
    private void StartRelay(ScriptedSmtpPeer peer, string server, string security, params string[] more) =>
        StartA([$"SERVER:{server}", $"SERVER-TCP-PORT:{Port(peer.EndPoint.Port)}", $"SERVER-SECURITY:{security}", .. more]);

    private async Task SendToAAsync(string to, string subject)
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_a.Context);
        Assert.StartsWith("250", await s.CommandAsync("EHLO client.test"));
        await s.SendQueuedAsync("s@a.test", $"{to}", $"Subject: {subject}\r\n\r\nx\r\n");
    }

    private Task WaitUntilAsync(Func<bool> condition, string what) => Eventually.WaitAsync(condition, what, TimeSpan.FromSeconds(20));

    /// <summary>Waits until A has delivered the message (its spool is empty) and <paramref name="peer"/>'s script has ended (a failed check in it fails the test).</summary>
    private async Task DeliveredThroughAsync(ScriptedSmtpPeer peer)
    {
        await WaitUntilAsync(() => _a.Spool.LiveMessages == 0, "A to deliver");
        await peer.Completion;
    }

    private long A(SmtpCounter counter) => _a.Context.Counters.Get(counter, Direction.Out);

    private string Log => _a.Log.SnapshotText();

    /// <summary>Waits until the one message is in QUEUE-DEFER and returns its recipient's last reply (what <c>d q smtp</c> shows).</summary>
    private async Task<string> DeferredReplyAsync()
    {
        QueueEntry entry = await Eventually.WaitAsync(
            () => _engine!.List().SingleOrDefault(e => e.State == QueueEntryState.Defer && e.LastReplies.Count == 1 && e.LastReplies[0] is not null),
            "the message in QUEUE-DEFER", TimeSpan.FromSeconds(20));
        Assert.Equal(0, A(SmtpCounter.ExtFail)); // deferred, never bounced
        Assert.Equal(0, A(SmtpCounter.ExtSucc));
        return entry.LastReplies[0]!;
    }

    /// <summary>The transaction from s@a.test for one recipient, accepted, and QUIT. Returns the message text.</summary>
    private static async Task<string> TransactionAsync(ScriptedSmtpPeer p, string to)
    {
        string text = await p.ExpectTransactionAsync("s@a.test", to);
        await p.SendAsync("250 2.0.0 queued\r\n");
        await p.ExpectAsync("QUIT", "221 bye\r\n");
        return text;
    }

    /// <summary>
    /// A relay server speaking STARTTLS with <paramref name="certificate"/>: when the client accepts
    /// it, the message is taken; when the client gives up during the handshake, the script ends.
    /// </summary>
    private static ScriptedSmtpPeer StartTlsRelay(X509Certificate2 certificate, Action<bool>? handshake = null) => new(async p =>
    {
        await p.SendAsync("220 relay ESMTP\r\n");
        await p.ExpectAsync("EHLO mx.test", "250-relay\r\n250 STARTTLS\r\n");
        await p.ExpectAsync("STARTTLS", "220 go ahead\r\n");
        string? ehlo;
        try
        {
            // Under TLS 1.3 the server may finish its side before the client checks the certificate:
            // a refusal then shows as an alert or a close when the EHLO should come.
            await p.UpgradeToTlsAsync(certificate);
            ehlo = await p.ReadLineAsync();
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
        {
            ehlo = null;
        }

        handshake?.Invoke(ehlo is not null);
        if (ehlo is null)
        {
            return; // the client refused the certificate
        }

        Assert.Equal("EHLO mx.test\r\n", ehlo);
        await p.SendAsync("250 relay\r\n");
        await TransactionAsync(p, "r@far.test");
    });

    [Fact]
    public async Task TheRelayServersCertificateIsVerifiedAgainstServerTlsCa()
    {
        await using ScriptedSmtpPeer relay = StartTlsRelay(TestCertificates.Loopback);
        StartRelay(relay, "localhost", "STARTTLS", "SERVER-TLS-CA:test-root-ca.pem"); // relative: under WDIR
        TestCertificates.WriteRootPem(_a.WorkDir); // read when the connection is made
        await SendToAAsync("r@far.test", "verified");
        await DeliveredThroughAsync(relay);
        Assert.Contains("--- TLS ---", relay.Received.ToString());
        Assert.Equal(1, A(SmtpCounter.ExtSucc));
        Assert.Contains("certificate verified for localhost", Log);
    }

    /// <summary>
    /// A relay that sends only its own certificate, whose issuer (an intermediate of the test CA) is
    /// named by the certificate's AIA extension at an HTTP server on loopback: the chain is not
    /// completed by downloading it (as OpenSSL, so Postfix, never does), the message is deferred as
    /// unverified, and the HTTP server sees no request. The AOT binary has no downloader at all
    /// (src/AbilisFast/NoCertificateDownloads.xml); this holds the code to never asking for one.
    /// </summary>
    [Fact]
    public async Task AMissingIntermediateIsNotDownloaded()
    {
        using var http = new TcpListener(IPAddress.Loopback, 0);
        http.Start();
        int requests = 0;
        using var intermediateKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var intermediateRequest = new CertificateRequest("CN=AbilisFast Test Intermediate", intermediateKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        intermediateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using X509Certificate2 intermediatePublic = intermediateRequest.Create(TestCertificates.Root, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7), [1, 2, 3, 4]);
        using X509Certificate2 intermediate = intermediatePublic.CopyWithPrivateKey(intermediateKey);
        byte[] served = intermediate.RawData;
        Task serving = Task.Run(async () =>
        {
            // Answers every request with the intermediate, as a CA's AIA server would.
            while (true)
            {
                using TcpClient client = await http.AcceptTcpClientAsync();
                Interlocked.Increment(ref requests);
                NetworkStream stream = client.GetStream();
                var request = new StringBuilder(); // whatever it asks for, it gets the intermediate
                byte[] buffer = new byte[4096];
                int n;
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal) && (n = await stream.ReadAsync(buffer)) > 0)
                {
                    request.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }

                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Type: application/pkix-cert\r\nContent-Length: {served.Length}\r\n\r\n"));
                await stream.WriteAsync(served);
            }
        });

        using var leafKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=localhost", leafKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        leafRequest.CertificateExtensions.Add(names.Build());
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")], false));
        leafRequest.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension(null, [$"http://127.0.0.1:{Port(((IPEndPoint)http.LocalEndpoint).Port)}/intermediate.cer"]));
        using X509Certificate2 leafPublic = leafRequest.Create(intermediate, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7), [5, 6, 7, 8]);
        using X509Certificate2 leafWithKey = leafPublic.CopyWithPrivateKey(leafKey);
        using X509Certificate2 leaf = X509CertificateLoader.LoadPkcs12(leafWithKey.Export(X509ContentType.Pfx), null);

        await using ScriptedSmtpPeer relay = StartTlsRelay(leaf);
        StartRelay(relay, "localhost", "STARTTLS", ServerTlsCa());
        await SendToAAsync("r@far.test", "no download");
        Assert.StartsWith("4.7.5 certificate verification failed: no trusted chain for CN=localhost", await DeferredReplyAsync());
        Assert.Equal(0, Volatile.Read(ref requests));
        Assert.False(serving.IsCompleted, serving.Exception?.ToString());
        http.Stop();
    }

    [Fact]
    public async Task AnIpLiteralServerIsMatchedAgainstTheIpAddressNameOverImplicitTls()
    {
        await using var relay = new ScriptedSmtpPeer(async p =>
        {
            await p.UpgradeToTlsAsync(TestCertificates.Loopback);
            await p.SendAsync("220 relay ESMTP\r\n");
            await p.ExpectAsync("EHLO mx.test", "250 relay\r\n");
            await TransactionAsync(p, "r@far.test");
        });
        StartRelay(relay, "127.0.0.1", "TLS", ServerTlsCa());
        await SendToAAsync("r@far.test", "ip literal");
        await DeliveredThroughAsync(relay);
        Assert.Contains("certificate verified for 127.0.0.1", Log);
    }

    [Fact]
    public async Task AnIpLiteralServerIsNotMatchedByADnsNameAlone()
    {
        using X509Certificate2 nameOnly = TestCertificates.Issue("localhost", ["localhost"], [], TestCertificates.Root);
        await using ScriptedSmtpPeer relay = StartTlsRelay(nameOnly);
        StartRelay(relay, "127.0.0.1", "STARTTLS", ServerTlsCa());
        await SendToAAsync("r@far.test", "ip without ip name");
        Assert.Equal("4.7.5 certificate verification failed: the certificate is not for 127.0.0.1 (it names localhost)", await DeferredReplyAsync());
    }

    [Fact]
    public async Task AWrongHostNameDefersWith475AndIsLogged()
    {
        bool? handshook = null;
        await using ScriptedSmtpPeer relay = StartTlsRelay(TestCertificates.Loopback, ok => handshook = ok);
        StartRelay(relay, "relay.test", "STARTTLS", ServerTlsCa());
        await SendToAAsync("r@far.test", "wrong name");
        string reply = await DeferredReplyAsync();
        Assert.StartsWith("4.7.5 certificate verification failed: the certificate is not for relay.test (it names localhost, 127.0.0.1)", reply);
        Assert.DoesNotContain("no trusted chain", reply); // the chain itself holds through SERVER-TLS-CA
        Assert.Contains("certificate verification failed: the certificate is not for relay.test", Log);
        await relay.Completion;
        Assert.False(handshook);
        Assert.DoesNotContain("MAIL FROM", relay.Received.ToString());
    }

    [Fact]
    public async Task ASelfSignedCertificateWithoutServerTlsCaDefers()
    {
        await using ScriptedSmtpPeer relay = StartTlsRelay(TestCertificates.SelfSigned);
        StartRelay(relay, "localhost", "STARTTLS");
        await SendToAAsync("r@far.test", "self-signed");
        string reply = await DeferredReplyAsync();
        Assert.StartsWith("4.7.5 certificate verification failed: no trusted chain for CN=localhost: ", reply);
        await relay.Completion;
        Assert.DoesNotContain("MAIL FROM", relay.Received.ToString());
    }

    [Fact]
    public async Task ACertificateOfAnotherCaIsNotTrustedThroughServerTlsCa()
    {
        await using ScriptedSmtpPeer relay = StartTlsRelay(TestCertificates.SelfSigned);
        StartRelay(relay, "localhost", "STARTTLS", ServerTlsCa());
        await SendToAAsync("r@far.test", "other ca");
        Assert.StartsWith("4.7.5 certificate verification failed: no trusted chain for CN=localhost", await DeferredReplyAsync());
    }

    [Fact]
    public async Task AnUnreadableServerTlsCaDefersWithoutConnecting()
    {
        await using ScriptedSmtpPeer relay = StartTlsRelay(TestCertificates.Loopback);
        StartRelay(relay, "localhost", "STARTTLS", "SERVER-TLS-CA:/nonexistent/ca.pem");
        await SendToAAsync("r@far.test", "no ca file");
        string reply = await DeferredReplyAsync();
        Assert.StartsWith("4.7.5 certificate verification failed: cannot read SERVER-TLS-CA /nonexistent/ca.pem", reply);
        Assert.Equal(0, relay.Received.Length);
    }

    [Fact]
    public async Task ServerTlsVerifyNoEncryptsWithoutLookingAtTheCertificate()
    {
        await using ScriptedSmtpPeer relay = StartTlsRelay(TestCertificates.SelfSigned);
        StartRelay(relay, "relay.test", "STARTTLS", "SERVER-TLS-VERIFY:NO");
        await SendToAAsync("r@far.test", "not verified");
        await DeliveredThroughAsync(relay);
        Assert.Contains("--- TLS ---", relay.Received.ToString());
        Assert.Contains("certificate not verified (SERVER-TLS-VERIFY:NO)", Log);
    }

    [Fact]
    public async Task TheRightPinDelivers()
    {
        await using ScriptedSmtpPeer relay = StartTlsRelay(TestCertificates.SelfSigned);
        string other = TestCertificates.Pin(TestCertificates.Loopback);
        StartRelay(relay, "relay.test", "STARTTLS", "SERVER-TLS-VERIFY:PIN", $"SERVER-TLS-PIN:{other},{TestCertificates.Pin(TestCertificates.SelfSigned)}");
        await SendToAAsync("r@far.test", "pinned");
        await DeliveredThroughAsync(relay);
        Assert.Contains("certificate key matches SERVER-TLS-PIN", Log);
    }

    [Fact]
    public async Task AWrongPinDefersAndNamesTheServersKey()
    {
        await using ScriptedSmtpPeer relay = StartTlsRelay(TestCertificates.SelfSigned);
        StartRelay(relay, "localhost", "STARTTLS", "SERVER-TLS-VERIFY:PIN", $"SERVER-TLS-PIN:{TestCertificates.Pin(TestCertificates.Loopback)}");
        await SendToAAsync("r@far.test", "pin mismatch");
        string reply = await DeferredReplyAsync();
        Assert.Equal($"4.7.5 certificate verification failed: the server's key (SHA-256 {TestCertificates.Pin(TestCertificates.SelfSigned)}) is not in SERVER-TLS-PIN", reply);
    }

    /// <summary>An MX host on <paramref name="endpoint"/> (port 0: any) that offers STARTTLS and says what happened on each connection.</summary>
    private static ScriptedSmtpPeer MxPeer(IPEndPoint endpoint, int connections, Func<ScriptedSmtpPeer, Task> afterGoAhead) => new(endpoint, connections, async p =>
    {
        await p.SendAsync("220 mx ESMTP\r\n");
        await p.ExpectAsync("EHLO mx.test", "250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
        string? line = await p.ReadLineAsync();
        if (line == "STARTTLS\r\n")
        {
            await p.SendAsync("220 go ahead\r\n");
            await afterGoAhead(p);
            return;
        }

        // Plain text: the first command is MAIL (PIPELINING: MAIL, RCPT and DATA in one write).
        Assert.Equal("MAIL FROM:<s@a.test>\r\n", line);
        Assert.StartsWith("RCPT TO:<", await p.ReadLineAsync());
        await p.ExpectAsync("DATA", "250 ok\r\n250 ok\r\n354 go\r\n");
        await p.ReadDataAsync();
        await p.SendAsync("250 2.0.0 queued\r\n");
        await p.ExpectAsync("QUIT", "221 bye\r\n");
    });

    private static async Task TlsThenMessageAsync(ScriptedSmtpPeer p)
    {
        await p.UpgradeToTlsAsync(TestCertificates.SelfSigned);
        await p.ExpectAsync("EHLO mx.test", "250 mx\r\n");
        await TransactionAsync(p, "r@far.test");
    }

    [Fact]
    public async Task AnMxThatOffersStartTlsGetsTheMessageOverTlsUnverified()
    {
        await using ScriptedSmtpPeer mx = MxPeer(new IPEndPoint(IPAddress.Loopback, 0), 1, TlsThenMessageAsync);
        StartA($"MX-PORT:{Port(mx.EndPoint.Port)}");
        await SendToAAsync("r@far.test", "opportunistic");
        await DeliveredThroughAsync(mx);
        string received = mx.Received.ToString();
        Assert.Contains("STARTTLS\r\n--- TLS ---", received); // self-signed, yet taken: opportunistic TLS does not verify
        Assert.DoesNotContain("MAIL FROM", received[..received.IndexOf("--- TLS ---", StringComparison.Ordinal)]);
        Assert.Contains("TLS with mx.far.test: ", Log);
        Assert.Contains("opportunistic, certificate not verified", Log);
        Assert.Equal(1, A(SmtpCounter.ExtSucc));
    }

    [Fact]
    public async Task AnMxWhoseHandshakeFailsGetsTheMessageInPlainTextOnASecondConnection()
    {
        await using ScriptedSmtpPeer mx = MxPeer(new IPEndPoint(IPAddress.Loopback, 0), 2, async p =>
        {
            await p.SendAsync("this is not a TLS server hello\r\n");
            p.Close();
        });
        StartA($"MX-PORT:{Port(mx.EndPoint.Port)}");
        await SendToAAsync("r@far.test", "broken tls");
        await DeliveredThroughAsync(mx);
        string received = mx.Received.ToString();
        string second = received[received.IndexOf("--- connection 2 ---", StringComparison.Ordinal)..];
        Assert.Contains("STARTTLS", received[..received.IndexOf("--- connection 2 ---", StringComparison.Ordinal)]);
        Assert.DoesNotContain("STARTTLS", second);
        Assert.Contains("Subject: broken tls", second);
        Assert.Contains("TLS with mx.far.test [127.0.0.1]", Log);
        Assert.Contains("trying again without TLS on a new connection", Log);
        Assert.Equal(1, A(SmtpCounter.ExtSucc));
        Assert.Equal(0, A(SmtpCounter.ExtFail));
    }

    [Fact]
    public async Task MxTlsNoneNeverSendsStartTls()
    {
        await using ScriptedSmtpPeer mx = MxPeer(new IPEndPoint(IPAddress.Loopback, 0), 1, _ => throw new InvalidOperationException("STARTTLS under MX-TLS:NONE"));
        StartA($"MX-PORT:{Port(mx.EndPoint.Port)}", "MX-TLS:NONE");
        await SendToAAsync("r@far.test", "plain");
        await DeliveredThroughAsync(mx);
        Assert.DoesNotContain("STARTTLS\r\n", mx.Received.ToString());
        Assert.Contains("Subject: plain", mx.Received.ToString());
    }

    [Fact]
    public async Task AStuckHandshakeDoesNotHoldUpOtherOutSessions()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using ScriptedSmtpPeer far = MxPeer(new IPEndPoint(IPAddress.Loopback, 0), 1, TlsThenMessageAsync);
        await using ScriptedSmtpPeer slow = MxPeer(new IPEndPoint(IPAddress.Parse("127.0.0.2"), far.EndPoint.Port), 2, async p =>
        {
            stuck.SetResult(); // the client now waits for a server hello that does not come
            await release.Task;
            p.Close();
        });
        StartA($"MX-PORT:{Port(far.EndPoint.Port)}");
        await SendToAAsync("r@stuck.test", "stuck");
        await stuck.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await SendToAAsync("r@far.test", "meanwhile");
        await far.Completion.WaitAsync(TimeSpan.FromSeconds(20)); // delivered while the other handshake hangs
        Assert.Contains("Subject: meanwhile", far.Received.ToString());
        Assert.False(slow.Completion.IsCompleted);
        release.SetResult();
        await WaitUntilAsync(() => _a.Spool.LiveMessages == 0, "A to deliver the other one too");
        await slow.Completion;
        Assert.Contains("Subject: stuck", slow.Received.ToString());
    }

    [Fact]
    public async Task TheHandshakeDeadlineIsDtAndTheHostIsTriedAgainInPlainText()
    {
        await using ScriptedSmtpPeer mx = MxPeer(new IPEndPoint(IPAddress.Loopback, 0), 2, p => p.ReadToEndAsync()); // silent until the client gives up
        StartA($"MX-PORT:{Port(mx.EndPoint.Port)}", "DT:2");
        await SendToAAsync("r@far.test", "deadline");
        await DeliveredThroughAsync(mx);
        Assert.Contains("TLS handshake timed out after 2 s; trying again without TLS", Log);
        Assert.Contains("Subject: deadline", mx.Received.ToString());
    }

    [Fact]
    public async Task TheClientGivesUpAStuckHandshakeAtItsDeadline()
    {
        var options = new SmtpClientOptions
        {
            HeloHost = "out.test",
            Security = OutboundSecurity.Tls,
            TlsHost = "localhost",
            TlsHandshakeTimeout = TimeSpan.FromSeconds(1),
        };
        await using var silent = new ScriptedSmtpPeer(p => p.ReadToEndAsync()); // accepts, never answers the client hello
        SmtpClientException e = await Assert.ThrowsAsync<SmtpClientException>(() => SmtpClientConnection.ConnectAsync(silent.EndPoint, options, null, default));
        Assert.Equal("TLS handshake timed out after 1 s", e.Message);
        Assert.False(e.IsPermanent);
        await silent.Completion.WaitAsync(TimeSpan.FromSeconds(10)); // the connection was closed
    }
}
