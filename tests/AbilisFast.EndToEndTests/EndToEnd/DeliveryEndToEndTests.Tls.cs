namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>The relay server's certificate through the real executable: the console shows why mail waits, and a live SERVER-TLS-CA fixes it.</summary>
public sealed partial class DeliveryEndToEndTests
{
    [Fact]
    public async Task AnUnverifiedRelayCertificateDefersWith475UntilServerTlsCaIsSetLive()
    {
        string dir = ServerProcess.NewWorkDir();
        string ca = TestCertificates.WriteRootPem(dir);
        await using var relay = new ScriptedSmtpPeer(2, async p =>
        {
            string? ehlo;
            try
            {
                await p.UpgradeToTlsAsync(TestCertificates.Loopback); // SERVER-SECURITY:TLS, signed by the test CA
                await p.SendAsync("220 relay ESMTP\r\n");
                ehlo = await p.ReadLineAsync();
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
                ehlo = null;
            }

            if (p.Connection == 1)
            {
                Assert.Null(ehlo); // refused: the system does not trust the test CA
                return;
            }

            Assert.Equal("EHLO mx.local.test\r\n", ehlo);
            await p.SendAsync("250 relay\r\n");
            await p.ExpectTransactionAsync("s@client.test", "r@far.test");
            await p.SendAsync("250 2.0.0 queued\r\n");
            await p.ExpectAsync("QUIT", "221 bye\r\n");
        });
        using ServerProcess server = await ServerProcess.StartAsync(dir, null, Sending(relay.EndPoint.Port, "SERVER-SECURITY:TLS", "MAIL-TRY-DELAY:3600"));
        await SwaksAsync(server.Port, "s@client.test", "r@far.test", "Subject: verified tls\n\nbody\n");
        await WaitForQueuesAsync(server, 0, 1);
        string queue = await server.CtlAsync("d q smtp");
        Assert.Contains("4.7.5 certificate verification failed: no trusted chain for CN=localhost", queue);
        Assert.Contains("certificate verification failed", await server.CtlAsync("debug res:smtp lsn:3"));

        Assert.DoesNotContain("ERROR", await server.CtlAsync($"s p smtp SERVER-TLS-CA:{ca}"));
        Assert.DoesNotContain("ERROR", await server.CtlAsync("retry q smtp ALL"));
        await WaitForQueuesAsync(server, 0, 0);
        await relay.Completion;
        Assert.Contains("certificate verified for 127.0.0.1", await server.CtlAsync("debug res:smtp lsn:3"));
        Dictionary<string, (long In, long Out)> c = await CountersAsync(server);
        Assert.Equal(1L, c["EXT-SUCC"].Out);
        Assert.Equal(0L, c["EXT-FAIL"].Out);
        server.DeleteWorkDir();
    }
}
