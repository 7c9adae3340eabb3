namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>The real executable against real clients: python3 smtplib and swaks.</summary>
[Collection("EndToEnd")]
public sealed class RealClientTests
{
    // QUEUE-HOLD:YES: these tests look at what the spool holds, so nothing is delivered away.
    /// <summary>The local mailboxes these tests send to (LOCAL-RCPT:KNOWN accepts only users, aliases and postmaster).</summary>
    private static readonly string[] MailUsers = ["user", "b", "u", "u1", "u2"];

    private static readonly string[] Local = ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES", "QUEUE-HOLD:YES"];

    /// <summary>Runs a python3 smtplib script against the server; it must exit 0.</summary>
    private static async Task<string> PythonAsync(string script, ServerProcess server)
    {
        var (exit, output) = await Tool.RunAsync("python3", ["-c", script, server.Port.ToString()]);
        Assert.True(exit == 0, output);
        return output;
    }

    /// <summary>Runs swaks against the server, from s@client.test to <paramref name="to"/>, with <paramref name="more"/> options.</summary>
    private static Task<(int ExitCode, string Output)> SwaksAsync(ServerProcess server, string to, params string[] more) =>
        Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port}", "--from", "s@client.test", "--to", to, .. more]);

    /// <summary>SIGTERM (exit 0 expected), then what the spool held; WDIR is removed.</summary>
    private static async Task<List<StoredMessage>> StopAndReadAsync(ServerProcess server)
    {
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        List<StoredMessage> stored = StoredMessages.Read(server.SpoolDir);
        server.DeleteWorkDir();
        return stored;
    }

    [Fact]
    public async Task SmtplibSendsAMessageThatIsStoredIntact()
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, Local);
        const string script = """
            import smtplib, sys
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)
            code, _ = s.ehlo('client.test')
            assert code == 250
            for ext in ('pipelining', 'size', '8bitmime', 'enhancedstatuscodes', 'smtputf8', 'chunking'):
                assert s.has_extn(ext), ext
            msg = 'Subject: hello\r\n\r\nfirst line\r\n.leading dot\r\n..two dots\r\n.\r\nlast line\r\n'
            s.sendmail('sender@client.test', ['user@local.test'], msg)
            s.quit()
            print('SENT')
            """;
        string output = await PythonAsync(script, server);
        Assert.Contains("SENT", output);
        StoredMessage message = Assert.Single(await StopAndReadAsync(server));
        Assert.Equal("sender@client.test", message.Envelope.Sender);
        Assert.Equal("user@local.test", Assert.Single(message.Envelope.Recipients).Address);
        Assert.StartsWith("Received: from client.test ([127.0.0.1])\r\n\tby mx.local.test (AbilisFast) with ESMTP id ", message.Body);
        Assert.EndsWith("Subject: hello\r\n\r\nfirst line\r\n.leading dot\r\n..two dots\r\n.\r\nlast line\r\n", message.Body);
    }

    [Fact]
    public async Task SmtplibSmtpUtf8AddressesAreAccepted()
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, [.. Local, "LOCAL-RCPT:ANY"]);
        // LOCAL-RCPT:ANY: josé is no user (user names are ASCII); it gets a folder of its own, named
        // in lower case with its letters kept, and the address is stored as written.
        const string script = """
            import smtplib, sys
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)
            s.ehlo('client.test')
            code, text = s.mail('pelé@exemple.test', ['SMTPUTF8'])
            assert code == 250, (code, text)
            code, text = s.rcpt('josé@local.test')
            assert code == 250, (code, text)
            code, text = s.data('Subject: caf\u00e9\r\n\r\nna\u00efve\r\n'.encode('utf-8'))
            assert code == 250, (code, text)
            print(text.decode())
            # Without SMTPUTF8 a non-ASCII address is refused.
            code, text = s.mail('pelé@exemple.test')
            print(code, text.decode())
            s.quit()
            """;
        string output = await PythonAsync(script, server);
        Assert.Contains("2.0.0 Ok: queued as ", output);
        Assert.Contains("553 5.6.7", output);
        StoredMessage message = Assert.Single(await StopAndReadAsync(server));
        Assert.Equal("pelé@exemple.test", message.Envelope.Sender);
        Assert.Equal("josé@local.test", message.Envelope.Recipients[0].Address);
        Assert.EndsWith("Subject: café\r\n\r\nnaïve\r\n", message.Body);
    }

    [Fact]
    public async Task SmtplibChunkingWithBdat()
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, Local);
        const string script = """
            import smtplib, sys
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)
            s.ehlo('client.test')
            assert s.mail('a@client.test')[0] == 250
            assert s.rcpt('b@local.test')[0] == 250
            s.send(b'BDAT 12\r\nSubject: x\r\n')
            code, text = s.getreply()
            assert code == 250, (code, text)
            body = b'\r\n.not stuffed\r\nbare\nlf\r\n'
            s.send(b'BDAT %d LAST\r\n' % len(body) + body)
            code, text = s.getreply()
            assert code == 250, (code, text)
            print(text.decode())
            s.quit()
            """;
        string output = await PythonAsync(script, server);
        Assert.Contains("2.0.0 Ok: queued as ", output);
        StoredMessage message = Assert.Single(await StopAndReadAsync(server));
        Assert.EndsWith("Subject: x\r\n\r\n.not stuffed\r\nbare\r\nlf\r\n", message.Body);
    }

    [Fact]
    public async Task SwaksWithPipelining()
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, Local);
        var (exit, output) = await SwaksAsync(server, "u1@local.test,u2@local.test", "--pipeline", "--helo", "client.test", "--body", "pipelined body");
        Assert.True(exit == 0, output);
        Assert.Contains("PIPELINING", output);
        Assert.Contains("250 2.0.0 Ok: queued as ", output);
        StoredMessage message = Assert.Single(await StopAndReadAsync(server));
        Assert.Equal(["u1@local.test", "u2@local.test"], message.Envelope.Recipients.Select(r => r.Address));
        Assert.Contains("pipelined body", message.Body);
    }

    [Fact]
    public async Task SwaksOverTheSizeLimitGets552AndNothingIsQueued()
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, [.. Local, "MSG-MAXSIZE:2"]);
        string body = new StringBuilder().Insert(0, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n", 64).ToString();
        var (exit, output) = await SwaksAsync(server, "u@local.test", "--body", body);
        Assert.NotEqual(0, exit);
        Assert.Contains("552 5.3.4", output);
        Assert.Contains("SIZE 2048", output);

        // The same server still accepts a message under the limit on the next connection.
        var (exit2, output2) = await SwaksAsync(server, "u@local.test", "--body", "small");
        Assert.True(exit2 == 0, output2);
        StoredMessage message = Assert.Single(await StopAndReadAsync(server));
        Assert.Contains("small", message.Body);
    }

    [Fact]
    public async Task SwaksRelayToAForeignDomainIsDenied()
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, Local);
        var (exit, output) = await SwaksAsync(server, "someone@elsewhere.test");
        Assert.NotEqual(0, exit);
        Assert.Contains("554 5.7.1", output);
        Assert.Empty(await StopAndReadAsync(server));
    }

    [Fact]
    public async Task SwaksRelayFromARelayNetIsAccepted()
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, [.. Local, "RELAY-NET:127/8"]);
        var (exit, output) = await SwaksAsync(server, "someone@elsewhere.test");
        Assert.True(exit == 0, output);
        Assert.Single(await StopAndReadAsync(server));
    }

    [Fact]
    public async Task SwaksFromADeniedAddressIsRefusedAtConnect()
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(MailUsers, [.. Local, "IPSRC:127.0.0.2", "IPSRCLIST:#"]);
        var (exit, output) = await SwaksAsync(server, "u@local.test", "--local-interface", "127.0.0.1");
        Assert.NotEqual(0, exit);
        Assert.Contains("554 5.7.1", output);

        var (exit2, output2) = await SwaksAsync(server, "u@local.test", "--local-interface", "127.0.0.2");
        Assert.True(exit2 == 0, output2);
        server.DeleteWorkDir();
    }
}
