namespace AbilisFast.Server.Tests.Tls;

/// <summary>STARTTLS (RFC 3207) and the implicit TLS port over real loopback sockets.</summary>
public sealed class StartTlsTests
{
    [Fact]
    public async Task EhloOffersStartTlsOnlyBeforeTls()
    {
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(server.Port);
        string? before = await client.CommandAsync("EHLO client.test");
        Assert.Contains("250-STARTTLS", before);
        Assert.DoesNotContain("AUTH", before);
        Assert.EndsWith("250 CHUNKING", before);
        Assert.Equal("220 2.0.0 Ready to start TLS", await client.CommandAsync("STARTTLS"));
        await client.StartTlsAsync();
        Assert.Contains("CN=mx.test", client.ServerCertificate!.Subject);
        string? after = await client.CommandAsync("EHLO client.test");
        Assert.DoesNotContain("STARTTLS", after);
        Assert.Contains("250-AUTH PLAIN LOGIN", after);
        Assert.Equal("503 5.5.1 Error: TLS already active", await client.CommandAsync("STARTTLS"));
        Assert.Equal("221 2.0.0 Bye", await client.CommandAsync("QUIT"));
    }

    [Fact]
    public async Task StartTlsWithParametersIs501()
    {
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(server.Port);
        Assert.Equal("501 5.5.4 Syntax: STARTTLS (no parameters)", await client.CommandAsync("STARTTLS now"));
        Assert.Equal("250 2.0.0 Ok", await client.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task PlaintextPipelinedAfterStartTlsIsNeverExecuted()
    {
        await using TlsServer server = await TlsServer.StartAsync();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
        var buffer = new byte[4096];
        Assert.StartsWith("220 ", await ReceiveLineAsync(socket, buffer));
        await socket.SendAsync("EHLO client.test\r\n"u8.ToArray(), SocketFlags.None);
        string ehlo = await ReceiveUntilAsync(socket, buffer, "250 CHUNKING\r\n");
        Assert.Contains("STARTTLS", ehlo);

        // One write: the injected RSET and MAIL arrive in the same segment as STARTTLS.
        await socket.SendAsync("STARTTLS\r\nRSET\r\nMAIL FROM:<evil@x.test>\r\n"u8.ToArray(), SocketFlags.None);
        Assert.Equal("220 2.0.0 Ready to start TLS\r\n", await ReceiveLineAsync(socket, buffer));

        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "mx.test",
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        await tls.WriteAsync("EHLO client.test\r\n"u8.ToArray());
        var reply = new StringBuilder();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!reply.ToString().Contains("250 CHUNKING\r\n", StringComparison.Ordinal))
        {
            int n = await tls.ReadAsync(buffer, cts.Token);
            Assert.NotEqual(0, n);
            reply.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        // The first thing under TLS is the EHLO reply: no "250 2.0.0 Ok: reset", no "250 2.1.0".
        Assert.StartsWith("250-mx.test\r\n", reply.ToString());
        Assert.DoesNotContain("reset", reply.ToString());
        Assert.DoesNotContain("2.1.0", reply.ToString());

        // And the transaction state was not touched by the injected MAIL: RCPT needs MAIL.
        await tls.WriteAsync("RCPT TO:<a@local.test>\r\n"u8.ToArray());
        int read = await tls.ReadAsync(buffer, cts.Token);
        Assert.Equal("503 5.5.1 Error: need MAIL command\r\n", Encoding.ASCII.GetString(buffer, 0, read));
    }

    [Fact]
    public async Task TlsForgetsEhloAndAuthAsksForItAgain()
    {
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(server.Port);
        Assert.Equal("220 2.0.0 Ready to start TLS", await client.CommandAsync("STARTTLS"));
        await client.StartTlsAsync();
        Assert.Equal("503 5.5.1 Error: send EHLO first", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword)));
        Assert.Equal(SmtpState.WaitHelo, Assert.Single(server.Context.Context.Channels.Channels, c => c.SmtpState != SmtpState.Ready).SmtpState);
        Assert.StartsWith("250-", await client.CommandAsync("EHLO client.test"));
        Assert.Equal("235 2.7.0 Authentication successful", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword)));
    }

    [Fact]
    public async Task TlsRequiredRefusesMailBeforeStartTls()
    {
        await using TlsServer server = await TlsServer.StartAsync("TLS-REQUIRED:YES", "AUTH-PLAINTEXT:YES");
        await using (SmtpTestClient plain = await SmtpTestClient.ConnectGreetedAsync(server.Port))
        {
            string? ehlo = await plain.CommandAsync("EHLO client.test");
            Assert.Contains("STARTTLS", ehlo);
            Assert.DoesNotContain("AUTH", ehlo);
            Assert.Equal("530 5.7.0 Must issue a STARTTLS command first", await plain.CommandAsync("MAIL FROM:<a@client.test>"));
            Assert.Equal("530 5.7.0 Must issue a STARTTLS command first", await plain.CommandAsync("AUTH PLAIN " + TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword)));
        }

        await using SmtpTestClient client = await server.ConnectTlsAsync();
        await client.SendQueuedAsync("a@client.test", "b@local.test", "Subject: t\r\n\r\nbody\r\n");
        Assert.Contains("(AbilisFast) with ESMTPS id ", Assert.Single(server.Context.Stored()).Body);
    }

    [Fact]
    public async Task ImplicitTlsPortGreetsAfterTheHandshake()
    {
        await using TlsServer server = await TlsServer.StartAsync();
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.TlsPort, implicitTls: true);
        Assert.StartsWith("220 mx.test ESMTP", await client.ReadReplyAsync());
        string? ehlo = await client.CommandAsync("EHLO client.test");
        Assert.DoesNotContain("STARTTLS", ehlo);
        Assert.Contains("AUTH PLAIN LOGIN", ehlo);
        Assert.Equal("503 5.5.1 Error: TLS already active", await client.CommandAsync("STARTTLS"));
        await client.SendQueuedAsync("a@client.test", "b@local.test", "Subject: implicit\r\n\r\nbody\r\n");
        Assert.Contains("with ESMTPS id ", Assert.Single(server.Context.Stored()).Body);
    }

    [Fact]
    public async Task ImplicitTlsPortSharesTheChannelsOfTheMainPort()
    {
        await using TlsServer server = await TlsServer.StartAsync("SES-TOT:2", "SES-RESERVED-IN:1", "SES-RESERVED-OUT:1", "MAX-IP-SES:5");
        await using SmtpTestClient first = await SmtpTestClient.ConnectAsync(server.TlsPort, implicitTls: true);
        Assert.StartsWith("220 ", await first.ReadReplyAsync());

        // Inside a mail transaction: never closed to make room for a waiting connection.
        Assert.StartsWith("250", await first.CommandAsync("EHLO client.test"));
        Assert.StartsWith("250", await first.CommandAsync("MAIL FROM:<a@client.test>"));

        // The only IN channel is taken by the TLS session: the plaintext port has none left.
        await using SmtpTestClient second = await SmtpTestClient.ConnectAsync(server.Port);
        Assert.Equal("421 4.3.2 Error: no channel available, try again later", await second.ReadReplyAsync());

        // And a second TLS connection is closed without a handshake.
        using var third = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await third.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.TlsPort));
        Assert.Equal(0, await third.ReceiveAsync(new byte[16], SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AStuckHandshakeIsDroppedAtTheDeadlineWithoutBlockingOthers()
    {
        await using TlsServer server = await TlsServer.StartAsync("DT:2", "MAX-IP-SES:5");
        using var stuck = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await stuck.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
        var buffer = new byte[4096];
        Assert.StartsWith("220 ", await ReceiveLineAsync(stuck, buffer));
        await stuck.SendAsync("STARTTLS\r\n"u8.ToArray(), SocketFlags.None);
        Assert.Equal("220 2.0.0 Ready to start TLS\r\n", await ReceiveLineAsync(stuck, buffer));

        // Sends no ClientHello. Meanwhile another client runs a whole TLS session.
        await using (SmtpTestClient other = await server.ConnectTlsAsync())
        {
            await other.SendQueuedAsync("a@client.test", "b@local.test", "Subject: t\r\n\r\nbody\r\n");
            Assert.Equal("221 2.0.0 Bye", await other.CommandAsync("QUIT"));
        }

        // The stuck one is dropped (DT = 2 s is below the 30 s cap) and its channel freed.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        int n;
        try
        {
            n = await stuck.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        }
        catch (SocketException)
        {
            n = 0;
        }

        Assert.Equal(0, n);
        await Eventually.WaitAsync(
            () => server.Context.Context.Channels.Channels.All(c => c.SmtpState == SmtpState.Ready) ? "free" : null,
            "the stuck session's channel to be released");
        Assert.Contains("TLS handshake not completed within 2 s", server.Context.Log.SnapshotText());
        Assert.DoesNotContain("Session ended by error", server.Context.Log.SnapshotText());
    }

    [Fact]
    public async Task SelfSignedCertificateIsKeptInWorkDirAndReused()
    {
        using var context = new TestServerContext(tls: true);
        string key = Path.Combine(context.WorkDir, ServerTls.SelfSignedKeyFile);
        string cert = Path.Combine(context.WorkDir, ServerTls.SelfSignedCertFile);
        Assert.True(File.Exists(cert));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        }

        Assert.Contains("BEGIN PRIVATE KEY", File.ReadAllText(key));
        string first = context.Context.Tls!.Certificate.Thumbprint;

        ServerTls again = ServerTls.Load(context.Settings, TimeProvider.System);
        Assert.Equal(first, again.Certificate.Thumbprint);
        Assert.DoesNotContain("(new)", again.Origin);

        // Another HELOHOST gets a new certificate naming it.
        ServerTls renamed = ServerTls.Load(context.Settings with { HeloHost = "other.test" }, TimeProvider.System);
        Assert.NotEqual(first, renamed.Certificate.Thumbprint);
        Assert.Equal("other.test", renamed.Certificate.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.DnsName, false));
    }

    [Fact]
    public async Task ConfiguredPemFilesAreUsedAndBadOnesGiveOneLine()
    {
        using var context = new TestServerContext(tls: true);
        string dir = context.WorkDir;
        File.Copy(Path.Combine(dir, ServerTls.SelfSignedCertFile), Path.Combine(dir, "mine.crt"));
        File.Copy(Path.Combine(dir, ServerTls.SelfSignedKeyFile), Path.Combine(dir, "mine.key"));
        ServerTls loaded = ServerTls.Load(context.Settings with { TlsCertPath = Path.Combine(dir, "mine.crt"), TlsKeyPath = Path.Combine(dir, "mine.key") }, TimeProvider.System);
        Assert.Equal(context.Context.Tls!.Certificate.Thumbprint, loaded.Certificate.Thumbprint);
        Assert.StartsWith("TLS-CERT ", loaded.Origin);

        var missing = Assert.Throws<AbilisFast.Server.Configuration.ConfigurationException>(
            () => ServerTls.Load(context.Settings with { TlsCertPath = Path.Combine(dir, "absent.crt") }, TimeProvider.System));
        Assert.StartsWith($"TLS-CERT {Path.Combine(dir, "absent.crt")} cannot be used: ", missing.Message);
        Assert.DoesNotContain("\n", missing.Message);

        var keyOnly = Assert.Throws<AbilisFast.Server.Configuration.ConfigurationException>(
            () => ServerTls.Load(context.Settings with { TlsKeyPath = Path.Combine(dir, "mine.key") }, TimeProvider.System));
        Assert.Equal("TLS-KEY is set but TLS-CERT is empty: set both, or neither for a self-signed certificate", keyOnly.Message);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task WithoutACertificateStartTlsIsNotOffered()
    {
        using var context = new TestServerContext("LOCAL-DOMAIN:local.test");
        await using var server = new SmtpListener(context.Context);
        server.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await using SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(server.LocalEndPoint!.Port);
        Assert.DoesNotContain("STARTTLS", await client.CommandAsync("EHLO client.test"));
        Assert.Equal("502 5.5.1 Error: command not implemented", await client.CommandAsync("STARTTLS"));
        Assert.Equal("502 5.5.1 Error: command not implemented", await client.CommandAsync("AUTH PLAIN AGJvYgBw"));
    }

    private static async Task<string> ReceiveLineAsync(Socket socket, byte[] buffer) => await ReceiveUntilAsync(socket, buffer, "\r\n");

    /// <summary>Reads byte by byte (never past what is asked for, so no TLS byte is swallowed).</summary>
    private static async Task<string> ReceiveUntilAsync(Socket socket, byte[] buffer, string end)
    {
        var text = new StringBuilder();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!text.ToString().EndsWith(end, StringComparison.Ordinal))
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(0, 1), SocketFlags.None, cts.Token);
            Assert.NotEqual(0, n);
            text.Append((char)buffer[0]);
        }

        return text.ToString();
    }
}
