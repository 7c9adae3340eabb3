namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>The real executable with STARTTLS, the implicit TLS port and AUTH, against openssl s_client, swaks and python3 smtplib.</summary>
[Collection("EndToEnd")]
public sealed class TlsRealClientTests
{
    private const string User = "bob";
    private const string Password = "pw-for-bob-1";
    /// <summary>The local mailboxes these tests send to (LOCAL-RCPT:KNOWN accepts only users, aliases and postmaster).</summary>
    private static readonly string[] MailUsers = ["u"];

    private static readonly string[] Local = ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES", "QUEUE-HOLD:YES"];

    /// <summary>Adds the SMTP user with <c>abilisfast user</c> while the server runs (it reads the file again at AUTH).</summary>
    private static async Task AddMailUserAsync(ServerProcess server)
    {
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["user", User, "--rights", "mail", "--wdir", Path.Combine(server.WorkDir, "data")], stdin: Password + "\n");
        Assert.True(exit == 0, output);
    }

    private static string Fingerprint(ServerProcess server) =>
        Regex.Match(server.Stderr, "SHA-256 fingerprint ([0-9A-F]{64})").Groups[1].Value;

    /// <summary>
    /// openssl s_client over STARTTLS: EHLO and QUIT in TLS. Checks that it ends well and saw the
    /// certificate for mx.local.test; returns what it printed.
    /// </summary>
    private static async Task<string> OpensslStartTlsEhloQuitAsync(int port)
    {
        var (exit, output) = await Tool.RunAsync("openssl",
            ["s_client", "-starttls", "smtp", "-connect", $"127.0.0.1:{port}", "-crlf", "-ign_eof", "-servername", "mx.local.test"],
            stdin: "EHLO client.test\nQUIT\n");
        Assert.True(exit == 0, output);
        Assert.Contains("CN = mx.local.test", output);
        return output;
    }

    [Fact]
    public async Task OpensslStartTlsGetsTheSelfSignedCertificateAndAnEhloWithoutStartTls()
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, Local);
        string output = await OpensslStartTlsEhloQuitAsync(server.Port);
        Assert.Contains("250-AUTH PLAIN LOGIN", output);
        Assert.Contains("221 2.0.0 Bye", output);
        int tlsEhlo = output.IndexOf("250-mx.local.test", StringComparison.Ordinal);
        Assert.True(tlsEhlo >= 0, output);
        Assert.DoesNotContain("STARTTLS", output[tlsEhlo..]);
        Assert.Equal(64, Fingerprint(server).Length);
        server.DeleteWorkDir();
    }

    /// <summary>
    /// On a restart the self-signed certificate in WDIR is checked without OpenSSL: the process maps
    /// neither libssl nor libcrypto until a client asks for TLS, then the handshake loads them and
    /// presents the certificate whose fingerprint the start-up line printed.
    /// </summary>
    [Fact]
    public async Task ARestartedServerLoadsOpenSslOnlyAtTheFirstHandshake()
    {
        string dir = ServerProcess.NewWorkDir();
        using (ServerProcess first = await ServerProcess.StartAsync(dir, parameters: Local))
        {
            Assert.Equal(0, await first.TerminateAsync(TimeSpan.FromSeconds(30)));
        }

        using ServerProcess server = await ServerProcess.StartAsync(dir, parameters: Local);
        string maps = File.ReadAllText($"/proc/{server.ProcessId}/maps");
        Assert.DoesNotContain("libssl", maps);
        Assert.DoesNotContain("libcrypto", maps);

        string output = await OpensslStartTlsEhloQuitAsync(server.Port);
        Assert.Contains("221 2.0.0 Bye", output);
        Assert.Contains("libssl", File.ReadAllText($"/proc/{server.ProcessId}/maps"));

        var (fpExit, fpOutput) = await Tool.RunAsync("openssl",
            ["x509", "-noout", "-fingerprint", "-sha256", "-in", Path.Combine(dir, "data", "tls-selfsigned.crt")]);
        Assert.True(fpExit == 0, fpOutput);
        Assert.Equal(fpOutput.Trim()[(fpOutput.IndexOf('=', StringComparison.Ordinal) + 1)..].Replace(":", "", StringComparison.Ordinal), Fingerprint(server));
        server.DeleteWorkDir();
    }

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    public async Task SwaksTlsAuthRelaysWithRelayAuth(string mechanism)
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, [.. Local, "RELAY-AUTH:ENABLED"]);
        await AddMailUserAsync(server);
        var (exit, output) = await Tool.RunAsync("swaks",
            ["--server", $"127.0.0.1:{server.Port}", "--tls", "--auth", mechanism, "--auth-user", User, "--auth-password", Password,
             "--from", "bob@client.test", "--to", "friend@remote.example", "--helo", "client.test", "--body", "relayed"]);
        Assert.True(exit == 0, output);
        Assert.Contains("<~  235 2.7.0 Authentication successful", output);
        Assert.Contains("250 2.0.0 Ok: queued as ", output);
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        StoredMessage message = Assert.Single(StoredMessages.Read(server.SpoolDir));
        Assert.Equal("friend@remote.example", Assert.Single(message.Envelope.Recipients).Address);
        Assert.Contains("(AbilisFast) with ESMTPSA id ", message.Body);
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task SwaksWrongPasswordIs535()
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, Local);
        await AddMailUserAsync(server);
        var (exit, output) = await Tool.RunAsync("swaks",
            ["--server", $"127.0.0.1:{server.Port}", "--tls", "--auth", "PLAIN", "--auth-user", User, "--auth-password", "nope",
             "--from", "bob@client.test", "--to", "u@local.test", "--helo", "client.test"]);
        Assert.NotEqual(0, exit);
        Assert.Contains("535 5.7.8", output);
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task SmtplibStartTlsAndLogin()
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, Local);
        await AddMailUserAsync(server);
        const string script = """
            import smtplib, ssl, sys
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)
            s.ehlo('client.test')
            assert s.has_extn('starttls') and not s.has_extn('auth')
            code, text = s.starttls(context=ctx)
            assert code == 220, (code, text)
            s.ehlo('client.test')
            assert not s.has_extn('starttls') and s.has_extn('auth')
            try:
                s.login('bob', 'wrong')
                raise SystemExit('wrong password accepted')
            except smtplib.SMTPAuthenticationError as e:
                print('REFUSED', e.smtp_code)
            code, text = s.login('bob', sys.argv[2])
            print('LOGIN', code)
            s.sendmail('bob@client.test', ['u@local.test'], 'Subject: tls\r\n\r\nover tls\r\n')
            s.quit()
            print('SENT')
            """;
        var (exit, output) = await Tool.RunAsync("python3", ["-c", script, server.Port.ToString(CultureInfo.InvariantCulture), Password]);
        Assert.True(exit == 0, output);
        Assert.Contains("REFUSED 535", output);
        Assert.Contains("LOGIN 235", output);
        Assert.Contains("SENT", output);
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("with ESMTPSA id ", Assert.Single(StoredMessages.Read(server.SpoolDir)).Body);
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task ImplicitTlsPortWithSwaksAndSmtplib()
    {
        int tlsPort = ServerProcess.FreePort();
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, [.. Local, $"TLS-PORT:{tlsPort}"]);
        Assert.Contains($"implicit TLS on port {tlsPort}", server.Stderr);
        var (exit, output) = await Tool.RunAsync("swaks",
            ["--server", $"127.0.0.1:{tlsPort}", "--tlsc", "--from", "s@client.test", "--to", "u@local.test", "--helo", "client.test", "--body", "implicit"]);
        Assert.True(exit == 0, output);
        Assert.Contains("<~  220 mx.local.test ESMTP", output);
        Assert.Contains("250 2.0.0 Ok: queued as ", output);
        const string script = """
            import smtplib, ssl, sys
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = smtplib.SMTP_SSL('127.0.0.1', int(sys.argv[1]), timeout=20, context=ctx)
            s.ehlo('client.test')
            assert not s.has_extn('starttls') and s.has_extn('auth')
            s.sendmail('s@client.test', ['u@local.test'], 'Subject: ssl\r\n\r\nsmtps\r\n')
            s.quit()
            print('SENT')
            """;
        var (pyExit, pyOutput) = await Tool.RunAsync("python3", ["-c", script, tlsPort.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(pyExit == 0, pyOutput);
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        List<StoredMessage> stored = StoredMessages.Read(server.SpoolDir);
        Assert.Equal(2, stored.Count);
        Assert.All(stored, m => Assert.Contains("with ESMTPS id ", m.Body));
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task TlsRequiredRefusesPlaintextMailFromSwaks()
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, [.. Local, "TLS-REQUIRED:YES"]);
        var (exit, output) = await Tool.RunAsync("swaks",
            ["--server", $"127.0.0.1:{server.Port}", "--from", "s@client.test", "--to", "u@local.test", "--helo", "client.test"]);
        Assert.NotEqual(0, exit);
        Assert.Contains("530 5.7.0 Must issue a STARTTLS command first", output);
        var (tlsExit, tlsOutput) = await Tool.RunAsync("swaks",
            ["--server", $"127.0.0.1:{server.Port}", "--tls", "--from", "s@client.test", "--to", "u@local.test", "--helo", "client.test"]);
        Assert.True(tlsExit == 0, tlsOutput);
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task TheSelfSignedCertificateSurvivesARestart()
    {
        string workDir = ServerProcess.NewWorkDir();
        string first;
        using (ServerProcess server = await ServerProcess.StartAsync(workDir, null, Local))
        {
            Assert.Contains("(new)", server.Stderr);
            first = Fingerprint(server);
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        using (ServerProcess again = await ServerProcess.StartAsync(workDir, null, Local))
        {
            Assert.DoesNotContain("(new)", again.Stderr);
            Assert.Equal(first, Fingerprint(again));
            again.DeleteWorkDir();
        }
    }

    [Fact]
    public async Task AnUnreadableTlsCertStopsTheStartWithOneLine()
    {
        string workDir = ServerProcess.NewWorkDir();
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath,
            ["--wdir", Path.Combine(workDir, "data"), $"TCP-LOCPORT:{ServerProcess.FreePort()}", "ADMIN-ADDR:#", "TLS-CERT:/nonexistent/cert.pem"]);
        Assert.Equal(2, exit);
        Assert.Contains("abilisfast: TLS-CERT /nonexistent/cert.pem cannot be used: ", output);
        Directory.Delete(workDir, recursive: true);
    }
}
