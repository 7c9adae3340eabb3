namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>IPBAN through the real executable: failed console logins over TCP, the alert mail, the ban across restarts, saved parameters.</summary>
[Collection("EndToEnd")]
public sealed class IpBanEndToEndTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.2");

    /// <summary>One connection that fails <paramref name="times"/> logins (the console closes after three).</summary>
    private static async Task FailLoginsAsync(int adminPort, int times)
    {
        await using ConsoleTestClient client = await ConsoleTestClient.ConnectAsync(adminPort, Attacker);
        for (int i = 0; i < times; i++)
        {
            await client.ReadUntilAsync("Login:");
            await client.SendAsync("admin\r\n");
            await client.ReadUntilAsync("Password:");
            await client.SendAsync($"wrong-{i}\r\n");
            await client.ReadUntilAsync("Login incorrect\r\n");
        }
    }

    private static async Task<bool> AttackerIsDroppedAsync(int adminPort)
    {
        await using ConsoleTestClient client = await ConsoleTestClient.ConnectAsync(adminPort, Attacker);
        return await client.IsClosedAsync();
    }

    [Fact]
    public async Task FailedConsoleLoginsMailThePostmasterAndTheBanSurvivesARestart()
    {
        string workDir = ServerProcess.NewWorkDir();
        int adminPort = ServerProcess.FreePort();
        string[] parameters =
        [
            "LOCAL-DOMAIN:local.test", "STORE-MB:YES", "HELOHOST:mx.local.test",
            "IPBAN:MAX-FAIL:3", "IPBAN:ACTION:BOTH", "IPBAN:WHITE-LIST:#",
        ];
        string password;
        using (ServerProcess server = await ServerProcess.StartAsync(workDir, null, adminPort, parameters))
        {
            password = server.AdminPassword;
            Assert.Contains("MAX-FAIL:3", await server.CtlAsync("d p ipban"));

            await FailLoginsAsync(adminPort, 3);

            // ALERT-TO:postmaster: the postmaster's mail goes to the first admin user's mailbox, here
            // the 'admin' the first start created.
            string newDir = Path.Combine(workDir, "data", "mailboxes", "admin", "new");
            string file = await Eventually.WaitAsync(
                () => Directory.Exists(newDir) ? Directory.GetFiles(newDir).SingleOrDefault() : null, "the alert mail in the postmaster's (admin's) mailbox");
            string mail = await File.ReadAllTextAsync(file);
            AssertText.ContainsAll(
                mail,
                "\nSubject: IPBAN: 127.0.0.2 banned for 10080 minutes after 3 failed logins\n",
                "\nFrom: AbilisFast IPBAN <postmaster@mx.local.test>\n",
                "\nTo: <postmaster@mx.local.test>\n",
                "\nAuto-Submitted: auto-generated\n",
                "\nWhat failed:  console login\n",
                "\nTo lift the ban, on the console: clear ipban 127.0.0.2\n");
            Assert.Contains("ipban: alert mail about 127.0.0.2 queued as", server.Stderr);

            Assert.True(await AttackerIsDroppedAsync(adminPort), "the banned address is dropped at accept");
            string banned = await server.CtlAsync("d d ipban");
            Assert.Contains("BANNED:1", banned);
            Assert.Matches(@"\n {7}127\.0\.0\.2 +\d\d/\d\d/\d{4} ", banned);
            Assert.Matches(@"INT-SUCC +\| +1\|", await server.CtlAsync("d s smtp"));
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        using (ServerProcess again = await ServerProcess.StartAsync(workDir, null, adminPort, parameters))
        {
            again.KnownAdminPassword = password;
            string banned = await again.CtlAsync("d d ipban");
            Assert.Contains("BANNED:1", banned);
            Assert.Contains("127.0.0.2", banned);
            Assert.True(await AttackerIsDroppedAsync(adminPort), "still dropped after the restart");
            Assert.Single(Directory.GetFiles(Path.Combine(workDir, "data", "mailboxes", "admin", "new")));
            Assert.False(Directory.Exists(Path.Combine(workDir, "data", "mailboxes", "postmaster")));
            Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(20)));
            again.DeleteWorkDir();
        }
    }

    [Fact]
    public async Task SavedIpbanParametersAreInForceAfterARestartWithTheFile()
    {
        string workDir = ServerProcess.NewWorkDir();
        int adminPort = ServerProcess.FreePort();
        string password;
        string path;
        using (ServerProcess server = await ServerProcess.StartAsync(workDir, null, adminPort, "HELOHOST:mx.local.test"))
        {
            password = server.AdminPassword;
            Assert.Contains("MAX-FAIL:7 set, in force now (save conf keeps it)", await server.CtlAsync("s p ipban MAX-FAIL:7"));
            Assert.Contains("ALERT-TO:ops@local.test,postmaster set", await server.CtlAsync("s p ipban ALERT-TO:ops@local.test,postmaster"));
            string saved = await server.CtlAsync("save conf");
            path = Regex.Match(saved, @"Configuration saved to (\S+)").Groups[1].Value;
            Assert.Matches(@"Not saved, given on the command line for this run only: .*\bHELOHOST\b", saved);
            Assert.Equal(Path.Combine(workDir, "data", "abilisfast.conf"), path);
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        string[] lines = File.ReadAllLines(path);
        Assert.Contains("ipban MAX-FAIL:7", lines);
        Assert.Contains("ipban ALERT-TO:ops@local.test,postmaster", lines);

        using (ServerProcess again = await ServerProcess.StartAsync(workDir, null, adminPort, "--config", path))
        {
            again.KnownAdminPassword = password;
            string shown = await again.CtlAsync("d p ipban");
            Assert.Contains("       MAX-FAIL:7\n", shown);
            Assert.Contains("       ALERT-TO:ops@local.test,postmaster\n", shown);
            Assert.Contains("       FIND-TIME:1440\n", shown);
            Assert.Contains("MAX-FAIL:7", await again.CtlAsync("d d ipban"));
            Assert.Contains("HELOHOST:noname", await again.CtlAsync("d p smtp")); // given on the command line before: not saved
            Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(20)));
            again.DeleteWorkDir();
        }
    }
}
