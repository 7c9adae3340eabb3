namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>
/// The real executable's submission port (RFC 6409) and implicit TLS with SUBMISSION-TLS (RFC 8314)
/// against swaks, msmtp and python3 smtplib; the stored messages are read with python's email parser.
/// </summary>
[Collection("EndToEnd")]
public sealed class SubmissionRealClientTests
{
    private const string User = "bob";
    private const string Password = "pw-for-bob-1";
    private static readonly string[] Local = ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES", "QUEUE-HOLD:YES", "RELAY-NET:#", "RELAY-IPSRCLIST:#"];

    /// <summary>
    /// Starts the server with <paramref name="portParameter"/> set to a free port (PORT in the text); a port
    /// another test's server took between the probe and the bind (exit 3) is tried again with a new one.
    /// </summary>
    private static async Task<(ServerProcess Server, int Port)> StartWithPortAsync(string portParameter, params string[] parameters)
    {
        for (int attempt = 1; ; attempt++)
        {
            int port = ServerProcess.FreePort();
            try
            {
                ServerProcess server = await ServerProcess.StartAsync(parameters: [.. Local, .. parameters, $"{portParameter}:{port}"]);
                return (server, port);
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("is in use", StringComparison.Ordinal))
            {
            }
        }
    }

    private static async Task AddMailUserAsync(ServerProcess server)
    {
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["user", User, "--rights", "mail", "--wdir", Path.Combine(server.WorkDir, "data")], stdin: Password + "\n");
        Assert.True(exit == 0, output);
    }

    /// <summary>Python's email parser on the stored text: the Received field (unfolded), Date, Message-ID and Subject, one per line.</summary>
    private static async Task<string[]> ParseAsync(string body)
    {
        const string script = """
            import email, email.policy, email.utils, sys
            m = email.message_from_binary_file(sys.stdin.buffer, policy=email.policy.default)
            print(' '.join(str(m['Received']).split()))
            print(email.utils.format_datetime(email.utils.parsedate_to_datetime(str(m['Date']))))
            print(m['Message-ID'])
            print(m['Subject'])
            """;
        var (exit, output) = await Tool.RunAsync("python3", ["-c", script], stdin: body);
        Assert.True(exit == 0, output);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>
    /// Stops the server (exit code 0), checks that the spool holds exactly one message and that it
    /// carries what submission adds (<see cref="AssertSubmitted"/>), removes WDIR and returns the message.
    /// </summary>
    private static async Task<StoredMessage> StopAndReadSubmittedAsync(ServerProcess server, string protocol, string subject)
    {
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        StoredMessage message = Assert.Single(StoredMessages.Read(server.SpoolDir));
        AssertSubmitted(await ParseAsync(message.Body), protocol, subject);
        server.DeleteWorkDir();
        return message;
    }

    private static void AssertSubmitted(string[] parsed, string protocol, string subject)
    {
        Assert.Matches($"^from client\\.test \\(\\[127\\.0\\.0\\.1\\]\\) \\(Authenticated sender: bob\\) by mx\\.local\\.test \\(AbilisFast\\) with {protocol} id [0-9A-F]{{8}}; ", parsed[0]);
        Assert.EndsWith("+0000", parsed[1]);
        Assert.Matches("^<\\d+\\.[0-9A-F]{8}@mx\\.local\\.test>$", parsed[2]);
        Assert.Equal(subject, parsed[3]);
    }

    [Fact]
    public async Task SwaksSubmitsWithStartTlsAndAuthAndIsRefusedWithoutOrForAnotherSender()
    {
        (ServerProcess started, int submission) = await StartWithPortAsync("SUBMISSION-PORT");
        using ServerProcess server = started;
        Assert.Contains($"submission on port {submission}", server.Stderr);
        string parameters = (await server.CtlAsync("d p smtp")).ReplaceLineEndings("\n");
        Assert.Contains($"\n       SUBMISSION-PORT:{submission} *\n", parameters);
        Assert.Contains("\n       SUBMISSION-TLS:NO\n       SUBMISSION-PLAINTEXT:NO\n       SUBMISSION-RATE:30\n       SUBMISSION-ANY-SENDER:\n", parameters);
        await AddMailUserAsync(server);
        string[] common = ["--server", $"127.0.0.1:{submission}", "--helo", "client.test", "--to", "friend@remote.example"];

        var (exit, output) = await Tool.RunAsync("swaks", [.. common, "--from", "bob@local.test", "--tls"]);
        Assert.NotEqual(0, exit);
        Assert.Contains("530 5.7.0 Authentication required", output);

        (exit, output) = await Tool.RunAsync("swaks",
            [.. common, "--from", "ceo@local.test", "--tls", "--auth", "PLAIN", "--auth-user", User, "--auth-password", Password]);
        Assert.NotEqual(0, exit);
        Assert.Contains("553 5.7.1 <ceo@local.test>: Sender address rejected: not owned by user bob", output);

        (exit, output) = await Tool.RunAsync("swaks",
            [.. common, "--from", "bob@local.test", "--tls", "--auth", "LOGIN", "--auth-user", User, "--auth-password", Password,
             "--data", "Subject: from swaks\n\nno Date, no Message-ID\n"]);
        Assert.True(exit == 0, output);
        Assert.Contains("250 2.0.0 Ok: queued as ", output);
        StoredMessage message = await StopAndReadSubmittedAsync(server, "ESMTPSA", "from swaks");
        Assert.Equal("friend@remote.example", Assert.Single(message.Envelope.Recipients).Address);
    }

    [Fact]
    public async Task MsmtpFromADeviceConfigFile()
    {
        (ServerProcess started, int submission) = await StartWithPortAsync("SUBMISSION-PORT");
        using ServerProcess server = started;
        await AddMailUserAsync(server);
        string config = Path.Combine(server.WorkDir, "msmtprc");
        await File.WriteAllTextAsync(config, $"""
            account camera
            host 127.0.0.1
            port {submission}
            domain client.test
            auth on
            user {User}
            password {Password}
            tls on
            tls_starttls on
            tls_certcheck off
            from bob@local.test
            set_date_header off
            set_msgid_header off

            account default : camera
            """);
        if (!OperatingSystem.IsWindows())
        {
            // msmtp refuses a configuration file with a password that others may read.
            File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var (exit, output) = await Tool.RunAsync("msmtp", ["-C", config, "-t"],
            stdin: "To: ops@remote.example\nSubject: camera 3 motion\n\nmotion at the door\n");
        Assert.True(exit == 0, output);

        // The same device with another sender is refused at MAIL.
        (exit, output) = await Tool.RunAsync("msmtp", ["-C", config, "-f", "root@local.test", "ops@remote.example"], stdin: "Subject: x\n\ny\n");
        Assert.NotEqual(0, exit);
        Assert.Contains("553 5.7.1", output);

        StoredMessage message = await StopAndReadSubmittedAsync(server, "ESMTPSA", "camera 3 motion");
        Assert.Equal("ops@remote.example", Assert.Single(message.Envelope.Recipients).Address);
    }

    [Fact]
    public async Task SmtplibOverImplicitTlsWithSubmissionTlsAndSwaksTlsc()
    {
        (ServerProcess started, int tlsPort) = await StartWithPortAsync("TLS-PORT", "SUBMISSION-TLS:YES");
        using ServerProcess server = started;
        Assert.Contains($"implicit TLS on port {tlsPort} (submission rules)", server.Stderr);
        await AddMailUserAsync(server);
        var (exit, output) = await Tool.RunAsync("swaks",
            ["--server", $"127.0.0.1:{tlsPort}", "--tlsc", "--from", "bob@local.test", "--to", "u@local.test", "--helo", "client.test"]);
        Assert.NotEqual(0, exit);
        Assert.Contains("530 5.7.0 Authentication required", output);

        const string script = """
            import smtplib, ssl, sys
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = smtplib.SMTP_SSL('127.0.0.1', int(sys.argv[1]), timeout=20, context=ctx, local_hostname='client.test')
            s.ehlo('client.test')
            assert s.has_extn('auth')
            code, text = s.login('bob', sys.argv[2])
            print('LOGIN', code)
            s.sendmail('bob@local.test', ['friend@remote.example'], 'Subject: smtps\r\n\r\nimplicit\r\n')
            try:
                s.sendmail('other@local.test', ['friend@remote.example'], 'Subject: no\r\n\r\nno\r\n')
            except smtplib.SMTPSenderRefused as e:
                print('REFUSED', e.smtp_code)
            s.quit()
            """;
        (exit, output) = await Tool.RunAsync("python3", ["-c", script, tlsPort.ToString(CultureInfo.InvariantCulture), Password]);
        Assert.True(exit == 0, output);
        Assert.Contains("LOGIN 235", output);
        Assert.Contains("REFUSED 553", output);
        await StopAndReadSubmittedAsync(server, "ESMTPSA", "smtps");
    }

    [Fact]
    public async Task SmtplibOnLoopbackInPlaintextWithSubmissionPlaintextLoopback()
    {
        (ServerProcess started, int submission) = await StartWithPortAsync("SUBMISSION-PORT", "SUBMISSION-PLAINTEXT:LOOPBACK");
        using ServerProcess server = started;
        await AddMailUserAsync(server);
        const string script = """
            import smtplib, sys
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20, local_hostname='client.test')
            s.ehlo('client.test')
            assert s.has_extn('auth')
            s.login('bob', sys.argv[2])
            s.sendmail('bob@local.test', ['friend@remote.example'], 'Subject: plain\r\n\r\nloopback\r\n')
            s.quit()
            print('SENT')
            """;
        var (exit, output) = await Tool.RunAsync("python3", ["-c", script, submission.ToString(CultureInfo.InvariantCulture), Password]);
        Assert.True(exit == 0, output);
        await StopAndReadSubmittedAsync(server, "ESMTPA", "plain");
    }

    [Fact]
    public async Task CheckConfigReportsABadSubmissionValueWithFileAndLine()
    {
        using var dir = new Configuration.TempDir();
        string conf = dir.Write("abilisfast.conf", "LOCAL-DOMAIN:local.test\nSUBMISSION-PORT:587 SUBMISSION-PLAINTEXT:ALWAYS\n");
        var (exit, output) = await ServerProcess.CheckConfigAsync("--config", conf, "--wdir", dir.Path);
        Assert.Equal(2, exit);
        Assert.Equal($"abilisfast: {conf}:2: SUBMISSION-PLAINTEXT:ALWAYS is invalid: allowed NO or LOOPBACK", output.Trim());
    }
}
