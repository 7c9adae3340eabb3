using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AbilisFast.Server.Tests.Support;

namespace AbilisFast.Server.Tests.Hostile;

/// <summary>
/// Defences a hostile probe found holding, kept as regression tests where no other test held them
/// already (docs/testing.md lists which test holds which): relay tricks, traversal through local
/// parts, absurd BDAT sizes, ten thousand recipients, thousands of idle connections from one address.
/// </summary>
public sealed class HeldDefenceTests : IDisposable
{
    private readonly TestServerContext _server = new("LOCAL-DOMAIN:local.test", "STORE-MB:YES", "MAX-RCPT:100", "MSG-MAXSIZE:1024");

    public void Dispose() => _server.Dispose();

    /// <summary>No open relay: every trick that could make a local address reach another domain is refused, from a client outside RELAY-NET.</summary>
    [Theory]
    [InlineData("<b%elsewhere.test@local.test>", "550 5.7.1")]
    [InlineData("<b%elsewhere.test%local.test@local.test>", "550 5.7.1")]
    [InlineData("<elsewhere.test!b@local.test>", "550 5.7.1")]
    [InlineData("<b@elsewhere.test@local.test>", "501 5.1.3")]
    [InlineData("<\"b@elsewhere.test\"@local.test>", "550 5.7.1")]
    [InlineData("<\"b%elsewhere.test\"@local.test>", "550 5.7.1")]
    [InlineData("<\"elsewhere.test!b\"@local.test>", "550 5.7.1")]
    [InlineData("<@local.test:b@elsewhere.test>", "554 5.7.1")]
    [InlineData("<@local.test,@local.test:b@elsewhere.test>", "554 5.7.1")]
    [InlineData("<b@[192.0.2.1]>", "554 5.7.1")]
    [InlineData("<b@[127.0.0.1]>", "554 5.7.1")]
    [InlineData("<b@[IPv6:::1]>", "554 5.7.1")]
    [InlineData("<b@127.0.0.1>", "554 5.7.1")]
    [InlineData("<b@local.test.elsewhere.test>", "554 5.7.1")]
    [InlineData("<b@elsewhere.test.>", "501 5.1.3")]
    [InlineData("<b@local.test.>", "501 5.1.3")]
    [InlineData("<b@.local.test>", "501 5.1.3")]
    [InlineData("<b@local..test>", "501 5.1.3")]
    [InlineData("<b@local.test:25>", "501 5.1.3")]
    [InlineData("<b@-local.test>", "501 5.1.3")]
    [InlineData("<b@local.test\\@elsewhere.test>", "501 5.1.3")]
    [InlineData("<b@xn--lcal-test-8za.elsewhere.test>", "554 5.7.1")]
    [InlineData("<b@elsewhere.test> NOTIFY=NEVER ORCPT=rfc822;b@local.test", "554 5.7.1")]
    public async Task NoRelayThroughAddressTricks(string recipient, string expected)
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context, remote: "192.0.2.77");
        Assert.StartsWith("250", await s.CommandAsync("EHLO client.test"));
        Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<a@client.test>"));
        Assert.StartsWith(expected + " ", await s.CommandAsync("RCPT TO:" + recipient));
        Assert.Equal(0, _server.Context.Counters.Get(AbilisFast.Server.Diagnostics.SmtpCounter.RelaySucc, AbilisFast.Server.Diagnostics.Direction.In));
    }

    /// <summary>BDAT sizes no number can hold: 501 and the session closes (the stream cannot be resynchronised); nothing is stored.</summary>
    [Theory]
    [InlineData("BDAT 99999999999999999999 LAST")]
    [InlineData("BDAT 9223372036854775808")]
    [InlineData("BDAT -1 LAST")]
    [InlineData("BDAT 0x10 LAST")]
    [InlineData("BDAT 1e9 LAST")]
    public async Task BdatSizesThatNoNumberHoldsAreRefusedAndTheSessionCloses(string command)
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        Assert.StartsWith("250", await s.CommandAsync("EHLO client.test"));
        Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<a@client.test>"));
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<u@local.test>"));
        Assert.Equal("501 5.5.4 Syntax: BDAT chunk-size [LAST]", await s.CommandAsync(command));
        Assert.Null(await s.ReadReplyAsync());
        Assert.Empty(_server.Stored());
    }

    /// <summary>
    /// The largest size a number holds: the chunk is read and thrown away as it comes (over
    /// MSG-MAXSIZE, nothing buffered), and a client that stops sending is ended by the deadlines.
    /// </summary>
    [Fact]
    public async Task AnEnormousBdatChunkIsDrainedNotStored()
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        Assert.StartsWith("250", await s.CommandAsync("EHLO client.test"));
        Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<a@client.test>"));
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<u@local.test>"));
        await s.SendAsync("BDAT 9223372036854775807 LAST\r\n");
        byte[] block = new byte[1 << 20];
        block.AsSpan().Fill((byte)'x');
        // The in-memory pipe pushes back when the server stops reading: all 16 MiB going in means it drains them.
        for (int i = 0; i < 16; i++)
        {
            await s.SendAsync(block).WaitAsync(TimeSpan.FromSeconds(60));
        }

        // Far more than MSG-MAXSIZE (1 MiB): nothing of it is a message.
        Assert.Empty(_server.Stored());
    }

    [Fact]
    public async Task TenThousandRecipientsStopAtMaxRcptAndTheSessionGoesOn()
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        Assert.StartsWith("250", await s.CommandAsync("EHLO client.test"));
        Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<a@client.test>"));
        var pipelined = new StringBuilder();
        for (int i = 0; i < 10_000; i++)
        {
            pipelined.Append(CultureInfo.InvariantCulture, $"RCPT TO:<u{i}@local.test>\r\n");
        }

        await s.SendAsync(pipelined.ToString());
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < 10_000; i++)
        {
            string? reply = await s.ReadReplyAsync();
            accepted += reply == "250 2.1.5 Ok" ? 1 : 0;
            refused += reply!.StartsWith("452 4.5.3", StringComparison.Ordinal) ? 1 : 0;
        }

        Assert.Equal((100, 9_900), (accepted, refused));
        Assert.StartsWith("354", await s.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: queued as", await s.CommandAsync("hello\r\n."));
        Assert.Equal(100, Assert.Single(_server.Stored()).Envelope.Recipients.Count);
    }
}

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
