namespace AbilisFast.Server.Tests.Hostile;

/// <summary>
/// Sessions that hold every channel without sending mail. At the defaults (SES-TOT:10,
/// SES-RESERVED-OUT:2: eight channels for inbound sessions; MAX-IP-SES:2) eight connections from four
/// addresses that send NOOP every two seconds used to keep everybody else out with 421 4.3.2 for as
/// long as they liked. Now a connection that finds every channel busy puts the server under stress:
/// an idle session gives its channel up, and the junk-command limit drops to one, so a real client
/// (swaks) is served while the holders keep trying.
/// </summary>
[Collection("EndToEnd")]
public sealed class ChannelHoldingTests
{
    private static string P(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>One holder: EHLO, then NOOP every <paramref name="period"/> until the server closes or the test ends.</summary>
    private sealed class Holder : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _loop = Task.CompletedTask;

        public required SmtpTestClient Client { get; init; }

        /// <summary>The last reply the server sent before it closed the connection (a 421), or null while open.</summary>
        public string? LastReply { get; private set; }

        public int Noops { get; private set; }

        public bool Closed { get; private set; }

        public static async Task<Holder> OpenAsync(int port, IPAddress source)
        {
            SmtpTestClient client = await SmtpTestClient.ConnectAsync(port, IPAddress.Loopback, source);
            Assert.StartsWith("220 ", await client.ReadReplyAsync());
            Assert.StartsWith("250", await client.CommandAsync("EHLO holder.test"));
            return new Holder { Client = client };
        }

        public void StartNooping(TimeSpan period) => _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                string? reply;
                try
                {
                    reply = await Client.CommandAsync("NOOP");
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
                {
                    reply = null;
                }

                if (reply is null || !reply.StartsWith("250", StringComparison.Ordinal))
                {
                    LastReply = reply;
                    Closed = true;
                    return;
                }

                Noops++;
                try
                {
                    await Task.Delay(period, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            await Client.DisposeAsync();
            await _loop;
            _stop.Dispose();
        }
    }

    [Fact]
    public async Task EightNoopHoldersFromFourAddressesDoNotKeepARealClientOut()
    {
        using ServerProcess server = await ServerProcess.StartAsync(parameters: ["LOCAL-DOMAIN:local.test", "STORE-MB:YES"]);
        var holders = new List<Holder>();
        try
        {
            // Two from each of 127.0.0.2..5 (MAX-IP-SES:2): every inbound channel is taken.
            for (int i = 0; i < 8; i++)
            {
                holders.Add(await Holder.OpenAsync(server.Port, IPAddress.Parse($"127.0.0.{2 + (i / 2)}")));
            }

            foreach (Holder holder in holders)
            {
                holder.StartNooping(TimeSpan.FromSeconds(2));
            }

            // Each holder has NOOPed at least once: they are established, and nothing has been refused yet.
            await Eventually.WaitAsync(() => holders.All(h => h.Noops >= 1), "every holder sent a NOOP", TimeSpan.FromSeconds(30));
            Assert.All(holders, h => Assert.False(h.Closed, h.LastReply));

            // A real client from another address. It waits up to 1 s for a channel; should the first
            // try still find them all busy, it tries again (as a real MTA retries), within a deadline.
            string output = string.Empty;
            bool served = false;
            DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!served && DateTime.UtcNow < deadline)
            {
                int exit;
                (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{P(server.Port)}", "--from", "s@client.test", "--to", "user@local.test", "--timeout", "20"]);
                served = exit == 0;
            }

            Assert.True(served, "swaks was never served while the holders sat there: " + output);
            Assert.Contains("250 2.0.0 Ok: queued as", output);

            // The holders that lost their channel were told why.
            Holder shed = Assert.Single(holders.Where(h => h.Closed).Take(1));
            Assert.Matches("^421 4\\.(3\\.2 Error: all channels busy, closing idle session|7\\.0 Error: too many NOOP/RSET/VRFY/HELP)", shed.LastReply ?? "(closed without a reply)");
        }
        finally
        {
            foreach (Holder holder in holders)
            {
                await holder.DisposeAsync();
            }
        }

        server.DeleteWorkDir();
    }
}
