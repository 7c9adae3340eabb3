namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>kill -9 at the worst moments: a 250 means on disk; no 250 means nothing queued.</summary>
[Collection("EndToEnd")]
public sealed class CrashTests : IDisposable
{
    // QUEUE-HOLD:YES: these tests look at what the spool holds, so nothing is delivered away.
    private static readonly string[] Local = ["LOCAL-DOMAIN:local.test", "STORE-MB:YES", "QUEUE-HOLD:YES"];

    /// <summary>The WDIR of the test's server, killed and started again on it; removed at the end.</summary>
    private readonly string _workDir = ServerProcess.NewWorkDir();

    public void Dispose() => Directory.Delete(_workDir, recursive: true);

    /// <summary>Greeting to 354: the client may send the body next.</summary>
    private static async Task OpenDataAsync(SmtpTestClient client)
    {
        Assert.StartsWith("220 ", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"));
        // postmaster: a local recipient every server knows (LOCAL-RCPT:KNOWN refuses made-up names).
        await client.OpenDataAsync("s@client.test", "postmaster@local.test");
    }

    private static async Task<string> SendAsync(SmtpTestClient client, string body)
    {
        await OpenDataAsync(client);
        await client.SendAsync(body + ".\r\n");
        string? reply = await client.ReadReplyAsync();
        Assert.NotNull(reply);
        return reply;
    }

    /// <summary>One message on a connection of its own, which the server must queue (250 2.0.0).</summary>
    private static async Task SendQueuedAsync(int port, string body)
    {
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(port);
        Assert.StartsWith("250 2.0.0", await SendAsync(client, body));
    }

    /// <summary>
    /// Starts the server again on the test's WDIR, asserts that it says it recovered one
    /// message and that it stops cleanly (exit 0); returns what the spool then holds.
    /// </summary>
    private async Task<List<StoredMessage>> AssertRestartRecoversOneMessageAsync()
    {
        using (ServerProcess again = await ServerProcess.StartAsync(_workDir, parameters: Local))
        {
            Assert.Contains("1 message(s) recovered", again.Stderr);
            Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        return StoredMessages.Read(Path.Combine(_workDir, "data", "spool"));
    }

    [Fact]
    public async Task KillRightAfterThe250KeepsTheMessage()
    {
        string body = "Subject: durable\r\n\r\n" + string.Concat(Enumerable.Repeat("line of the durable message\r\n", 2000));
        string id;
        using (ServerProcess server = await ServerProcess.StartAsync(_workDir, parameters: Local))
        {
            await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.Port);
            string reply = await SendAsync(client, body);
            server.Kill(); // the very moment the 250 is read
            Assert.StartsWith("250 2.0.0 Ok: queued as ", reply);
            id = reply["250 2.0.0 Ok: queued as ".Length..];
        }

        StoredMessage message = Assert.Single(await AssertRestartRecoversOneMessageAsync());
        Assert.Equal(id, message.Id.ToString("X8"));
        Assert.EndsWith(body, message.Body);
    }

    [Fact]
    public async Task KillInTheMiddleOfDataQueuesNothingOfThatMessage()
    {
        using (ServerProcess server = await ServerProcess.StartAsync(_workDir, parameters: Local))
        {
            await SendQueuedAsync(server.Port, "Subject: complete\r\n\r\nwhole\r\n");

            await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.Port);
            await OpenDataAsync(client);
            // Far more than one spool fragment, so part of the message is on disk when it dies.
            var partial = new StringBuilder("Subject: partial\r\n\r\n");
            for (int i = 0; i < 20_000; i++)
            {
                partial.Append("partial line ").Append(i).Append("\r\n");
            }

            await client.SendAsync(partial.ToString());
            Assert.True(await SpoolContainsAsync(server.SpoolDir, "partial line 1000\r\n"), "part of the message reached the spool");
            server.Kill();
        }

        StoredMessage message = Assert.Single(await AssertRestartRecoversOneMessageAsync());
        Assert.Contains("Subject: complete", message.Body);
    }

    [Fact]
    public async Task ACorruptSpoolRecordIsQuarantinedAndTheRestIsRecovered()
    {
        using (ServerProcess server = await ServerProcess.StartAsync(_workDir, parameters: Local))
        {
            await SendQueuedAsync(server.Port, "Subject: first\r\n\r\nFIRST-BODY-TO-DAMAGE\r\n");
            await SendQueuedAsync(server.Port, "Subject: second\r\n\r\nsecond body\r\n");
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        // Flip one byte inside the first message's stored body.
        string spoolDir = Path.Combine(_workDir, "data", "spool");
        string segment = Directory.GetFiles(spoolDir, "*.jnl").Single();
        byte[] bytes = await File.ReadAllBytesAsync(segment);
        int at = bytes.AsSpan().IndexOf("FIRST-BODY-TO-DAMAGE"u8);
        Assert.True(at > 0);
        bytes[at + 3] ^= 0x20;
        await File.WriteAllBytesAsync(segment, bytes);

        using (ServerProcess again = await ServerProcess.StartAsync(_workDir, parameters: Local))
        {
            Assert.Contains("1 message(s) recovered", again.Stderr);
            Assert.Contains("spool:", again.Stderr);
            await SendQueuedAsync(again.Port, "Subject: third\r\n\r\nstill running\r\n");
            Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        Assert.NotEmpty(Directory.GetFiles(Path.Combine(spoolDir, "corrupt")));
        var bodies = StoredMessages.Read(spoolDir).Select(m => m.Body).ToList();
        Assert.Equal(2, bodies.Count);
        Assert.Contains(bodies, b => b.EndsWith("second body\r\n", StringComparison.Ordinal));
        Assert.Contains(bodies, b => b.EndsWith("still running\r\n", StringComparison.Ordinal));
    }

    /// <summary>Waits until the spool files hold <paramref name="text"/> (written, not yet committed).</summary>
    private static async Task<bool> SpoolContainsAsync(string spoolDir, string text)
    {
        byte[] needle = Encoding.ASCII.GetBytes(text);
        try
        {
            await Eventually.WaitAsync(
                async () =>
                {
                    foreach (string file in Directory.GetFiles(spoolDir))
                    {
                        try
                        {
                            if ((await File.ReadAllBytesAsync(file)).AsSpan().IndexOf(needle) >= 0)
                            {
                                return true;
                            }
                        }
                        catch (IOException)
                        {
                        }
                    }

                    return false;
                },
                $"'{text.Trim()}' in the spool",
                TimeSpan.FromSeconds(10));
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    [Fact]
    public async Task ASecondServerOnTheSameWdirRefusesToStart()
    {
        using ServerProcess server = await ServerProcess.StartAsync(parameters: Local);
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath,
            ["--wdir", Path.Combine(server.WorkDir, "data"), $"TCP-LOCPORT:{ServerProcess.FreePort()}"]);
        Assert.Equal(4, exit);
        Assert.Contains("is in use by another abilisfast", output);
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));

        // kill -9 releases the lock too: the next start works.
        using ServerProcess again = await ServerProcess.StartAsync(server.WorkDir, parameters: Local);
        again.Kill();
        using ServerProcess third = await ServerProcess.StartAsync(server.WorkDir, parameters: Local);
        Assert.Equal(0, await third.TerminateAsync(TimeSpan.FromSeconds(20)));
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task SigtermStopsGracefullyWithExitZero()
    {
        using ServerProcess server = await ServerProcess.StartAsync(parameters: Local);
        await using SmtpTestClient idle = await SmtpTestClient.ConnectGreetedAsync(server.Port);
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        Assert.StartsWith("421 4.3.2", await idle.ReadReplyAsync());
        Assert.Contains("stopped", server.Stderr);
        server.DeleteWorkDir();
    }
}
