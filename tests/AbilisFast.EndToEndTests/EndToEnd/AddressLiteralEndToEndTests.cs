namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>
/// The client's address as the real executable shows and uses it, on its default dual-stack
/// listener ([::]): python3 smtplib over ::1 gets <c>[IPv6:::1]</c> in Received (RFC 5321 4.1.3),
/// over 127.0.0.1 (which the socket sees as ::ffff:127.0.0.1) plain <c>[127.0.0.1]</c>; Python's
/// mailbox reads the Received fields back from the Maildir. The session log, the console's session
/// table, RELAY-NET and IPBAN all see the IPv4 form.
/// </summary>
[Collection("EndToEnd")]
public sealed class AddressLiteralEndToEndTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>Connects to HOST (argv[2]) with HELO argv[3] and sends RCPT argv[4]; a local recipient also gets a message. Prints the replies.</summary>
    private const string SendScript = """
        import smtplib, sys
        port, host, helo, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
        s = smtplib.SMTP(host, port, local_hostname=helo, timeout=20)
        print('peer', s.sock.getpeername()[0], 'me', s.sock.getsockname()[0])
        s.ehlo(helo)
        s.mail('s@client.test')
        code, text = s.rcpt(rcpt)
        print('RCPT', code, text.decode())
        if code == 250 and rcpt.endswith('@local.test'):  # a relay check only: nothing goes out
            code, text = s.data('Subject: from ' + helo + '\r\n\r\nhello\r\n')
            print('DATA', code, text.decode())
        s.quit()
        """;

    private static async Task<string> SendAsync(ServerProcess server, string host, string helo, string rcpt)
    {
        var (exit, output) = await Tool.RunAsync("python3", ["-c", SendScript, server.Port.ToString(CultureInfo.InvariantCulture), host, helo, rcpt]);
        Assert.True(exit == 0, output);
        return output;
    }

    [Fact]
    public async Task ReceivedShowsIPv6WithItsTagAndMappedIPv4AsIPv4()
    {
        // user is a mail user: local domains take only real mailboxes (LOCAL-RCPT:KNOWN).
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(["user"],
            ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES", "RELAY-NET:127.0.0.1/32"]);

        string v6 = await SendAsync(server, "::1", "v6.client.test", "user@local.test");
        Assert.Contains("peer ::1", v6);
        Assert.Contains("DATA 250 ", v6);
        string v4 = await SendAsync(server, "127.0.0.1", "v4.client.test", "user@local.test");
        Assert.Contains("peer 127.0.0.1", v4);
        Assert.Contains("DATA 250 ", v4);

        string maildir = Path.Combine(server.WorkDir, "data", "mailboxes", "user");
        await Eventually.WaitAsync(() => Directory.Exists(Path.Combine(maildir, "new")) && Directory.GetFiles(Path.Combine(maildir, "new")).Length == 2 ? "" : null, "two messages in the Maildir", Wait);
        const string readScript = """
            import mailbox, sys
            for m in mailbox.Maildir(sys.argv[1], factory=None, create=False):
                print(m['Subject'], '|', ' '.join(m.get_all('Received')[0].split()))
            """;
        var (exit, received) = await Tool.RunAsync("python3", ["-c", readScript, maildir]);
        Assert.True(exit == 0, received);
        Assert.Matches(@"from v6\.client\.test \| from v6\.client\.test \(\[IPv6:::1\]\) by mx\.local\.test \(AbilisFast\) with ESMTP id [0-9A-F]{8};", received);
        Assert.Matches(@"from v4\.client\.test \| from v4\.client\.test \(\[127\.0\.0\.1\]\) by mx\.local\.test \(AbilisFast\) with ESMTP id [0-9A-F]{8};", received);
        Assert.DoesNotContain("ffff", received, StringComparison.OrdinalIgnoreCase);

        // RELAY-NET:127.0.0.1/32 matches the IPv4 client that came through the dual-stack socket, not ::1.
        Assert.Contains("RCPT 250 ", await SendAsync(server, "127.0.0.1", "v4.client.test", "far@relay.test"));
        Assert.Contains("RCPT 554 5.7.1", await SendAsync(server, "::1", "v6.client.test", "far@relay.test"));

        // The session log names each client in the same form.
        string log = await server.CtlAsync("debug res:smtp lsn:3");
        Assert.Matches(@"Start in-bound session from \[IPv6:::1\]:\d+", log);
        Assert.Matches(@"Start in-bound session from \[127\.0\.0\.1\]:\d+", log);
        Assert.DoesNotContain("ffff", log, StringComparison.OrdinalIgnoreCase);

        // The console's session table, while a session from 127.0.0.1 is open.
        await using (SmtpTestClient open = await SmtpTestClient.ConnectGreetedAsync(server.Port))
        {
            string sessions = await server.CtlAsync("d se smtp");
            int local = ((IPEndPoint)open.Socket.LocalEndPoint!).Port;
            Assert.Matches($@"IN +CONNECTED +127\.0\.0\.1:{server.Port} +127\.0\.0\.1:{local} +WAITHELO", sessions);
            Assert.DoesNotContain("ffff", sessions, StringComparison.OrdinalIgnoreCase);
        }

        server.DeleteWorkDir();
    }

    [Fact]
    public async Task AnIPv4AddressBannedOnTheConsoleIsDroppedOnTheDualStackSmtpPort()
    {
        using ServerProcess server = await ServerProcess.StartAsync(parameters:
            ["LOCAL-DOMAIN:local.test", "STORE-MB:YES", "IPBAN:MAX-FAIL:3", "IPBAN:ACTION:BAN", "IPBAN:WHITE-LIST:#"]);

        // Three failed console logins from 127.0.0.2 (the console listens on IPv4 127.0.0.1).
        await using (ConsoleTestClient console = await ConsoleTestClient.ConnectAsync(server.AdminPort, IPAddress.Parse("127.0.0.2")))
        {
            for (int i = 0; i < 3; i++)
            {
                await console.ReadUntilAsync("Login:");
                await console.SendAsync("admin\r\n");
                await console.ReadUntilAsync("Password:");
                await console.SendAsync($"wrong-{i}\r\n");
                await console.ReadUntilAsync("Login incorrect\r\n");
            }
        }

        Assert.Matches(@"\n {7}127\.0\.0\.2 +\d\d/\d\d/\d{4} ", await server.CtlAsync("d d ipban"));

        // smtplib from 127.0.0.2 reaches the [::] socket as ::ffff:127.0.0.2: dropped before any greeting.
        const string script = """
            import smtplib, sys
            try:
                smtplib.SMTP('127.0.0.1', int(sys.argv[1]), source_address=(sys.argv[2], 0), timeout=20)
                print('SERVED')
            except smtplib.SMTPServerDisconnected as e:
                print('DROPPED', e)
            """;
        var (exit, output) = await Tool.RunAsync("python3", ["-c", script, server.Port.ToString(CultureInfo.InvariantCulture), "127.0.0.2"]);
        Assert.True(exit == 0, output);
        Assert.Contains("DROPPED", output);
        Assert.Matches(@"BANNED-IP +\| +1\|", await server.CtlAsync("d s smtp"));

        // Another address is served.
        (exit, output) = await Tool.RunAsync("python3", ["-c", script, server.Port.ToString(CultureInfo.InvariantCulture), "127.0.0.3"]);
        Assert.True(exit == 0, output);
        Assert.Contains("SERVED", output);
        server.DeleteWorkDir();
    }
}
