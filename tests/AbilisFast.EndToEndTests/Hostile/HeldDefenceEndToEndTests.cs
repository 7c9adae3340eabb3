namespace AbilisFast.Server.Tests.Hostile;

/// <summary>Thousands of connections from one address, and TLS versions, against the real executable.</summary>
[Collection("EndToEnd")]
public sealed class HeldDefenceEndToEndTests
{
    /// <summary>
    /// 5,000 connections from 127.0.0.2 that never say a word: MAX-IP-SES keeps them to two channels,
    /// the rest are refused (421 4.7.0, at once or after the 1 s admission wait), and swaks from
    /// 127.0.0.1 is served meanwhile. They hold no channel beyond their two places.
    /// </summary>
    [Fact]
    public async Task FiveThousandIdleConnectionsFromOneAddressLeaveAnotherAddressServed()
    {
        using ServerProcess server = await ServerProcess.StartAsync(parameters: ["LOCAL-DOMAIN:local.test", "STORE-MB:YES"]);
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < 5_000; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
                sockets.Add(socket);
            }

            var (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port.ToString(CultureInfo.InvariantCulture)}", "--from", "s@client.test", "--to", "user@local.test"]);
            Assert.True(exit == 0, output);
            Assert.Contains("250 2.0.0 Ok: queued as", output);
        }
        finally
        {
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }
        }

        string stats = await server.CtlAsync("d s smtp");
        Assert.Contains("EXT-SUCC   |          1|", stats);
        server.DeleteWorkDir();
    }

    /// <summary>openssl s_client: TLS 1.0 and 1.1, and weak cipher suites offered alone, get no handshake; TLS 1.2 does.</summary>
    [Fact]
    public async Task OldTlsVersionsAndWeakCiphersAreRefused()
    {
        using ServerProcess server = await ServerProcess.StartAsync(parameters: ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test"]);
        string target = $"127.0.0.1:{server.Port.ToString(CultureInfo.InvariantCulture)}";
        string[][] refused =
        [
            ["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"],
            ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
            ["-tls1_2", "-cipher", "NULL-SHA256:NULL-SHA:@SECLEVEL=0"],
            ["-tls1_2", "-cipher", "ADH-AES128-SHA256:AECDH-AES128-SHA:@SECLEVEL=0"],
            ["-tls1_2", "-cipher", "DES-CBC3-SHA:ECDHE-ECDSA-DES-CBC3-SHA:@SECLEVEL=0"],
        ];
        foreach (string[] options in refused)
        {
            var (exit, output) = await Tool.RunAsync("openssl", ["s_client", "-starttls", "smtp", "-connect", target, "-crlf", .. options], stdin: "QUIT\n");
            Assert.True(exit != 0, string.Join(' ', options) + ": " + output);
            Assert.DoesNotContain("221 2.0.0 Bye", output);
        }

        var (okExit, okOutput) = await Tool.RunAsync("openssl", ["s_client", "-starttls", "smtp", "-connect", target, "-crlf", "-ign_eof", "-tls1_2"], stdin: "QUIT\n");
        Assert.True(okExit == 0, okOutput);
        Assert.Contains("221 2.0.0 Bye", okOutput);
        server.DeleteWorkDir();
    }
}

/// <summary>Local parts that look like paths, delivered by the real executable with swaks: inside the mailbox folder, or refused.</summary>
[Collection("EndToEnd")]
public sealed class TraversalEndToEndTests
{
    [Fact]
    public async Task NoTraversalThroughLocalParts()
    {
        using ServerProcess server = await ServerProcess.StartAsync(parameters: ["LOCAL-DOMAIN:local.test", "STORE-MB:YES"]);
        string data = Path.Combine(server.WorkDir, "data");
        string mailboxes = Path.Combine(data, "mailboxes");
        string[] localParts = ["\"../../../x\"", "\"..\"", "\".\"", "\"/etc/passwd\"", "\"..\\\\x\"", "\"a/../../b\"", "..", "a..b", ".hidden", "\".hidden\""];
        int accepted = 0;
        foreach (string localPart in localParts)
        {
            var (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port.ToString(CultureInfo.InvariantCulture)}", "--from", "s@client.test", "--to", localPart + "@local.test"]);
            if (exit == 0)
            {
                accepted++;
            }
            else
            {
                Assert.Contains("501 5.1.3", output);
            }
        }

        // Every accepted one lands in a Maildir directly under WDIR/mailboxes, none elsewhere.
        await Eventually.WaitAsync(
            () => Directory.Exists(mailboxes) && Directory.GetDirectories(mailboxes).Sum(b => Directory.Exists(Path.Combine(b, "new")) ? Directory.GetFiles(Path.Combine(b, "new")).Length : 0) == accepted,
            $"{accepted} messages in the mailboxes", TimeSpan.FromSeconds(30));
        Assert.True(accepted > 0);
        foreach (string box in Directory.GetDirectories(mailboxes))
        {
            Assert.False(Path.GetFileName(box).StartsWith('.'), box);
        }

        Assert.Empty(Directory.GetFiles(server.WorkDir, "*", SearchOption.TopDirectoryOnly));
        Assert.False(Directory.Exists(Path.Combine(server.WorkDir, "x")));
        Assert.False(Directory.Exists(Path.Combine(data, "x")));
        Assert.False(Directory.Exists(Path.Combine(data, "b")));
        server.DeleteWorkDir();
    }
}
