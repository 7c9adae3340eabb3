namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>The real executable's admin port and its user command.</summary>
[Collection("EndToEnd")]
public sealed class ConsoleEndToEndTests
{
    [Fact]
    public async Task FirstStartCreatesAnAdminAndTheConsoleShowsTraffic()
    {
        int adminPort = ServerProcess.FreePort();
        using ServerProcess server = await ServerProcess.StartAsync(null, null, adminPort, "LOCAL-DOMAIN:local.test", "NODENAME:ABILIS_CPX", "STORE-MB:YES", "QUEUE-HOLD:YES");
        string password = server.AdminPassword;
        Assert.NotEmpty(password);
        Assert.DoesNotContain(password, File.ReadAllText(UserStore.PathIn(Path.Combine(server.WorkDir, "data"))));

        var (exit, output) = await Tool.RunAsync("swaks",
            ["--server", $"127.0.0.1:{server.Port}", "--from", "s@client.test", "--to", "postmaster@local.test", "--body", "counted"]);
        Assert.True(exit == 0, output);

        await using ConsoleTestClient console = await ConsoleTestClient.ConnectAsync(adminPort);
        await console.ReadUntilAsync("Login:");
        await console.SendAsync("admin\r\n");
        await console.ReadUntilAsync("Password:");
        await console.SendAsync(password + "\r\n");
        await console.ReadUntilAsync("] ABILIS_CPX:");
        await console.SendAsync("d se smtp\r\n");
        string display = await console.ReadUntilAsync("] ABILIS_CPX:");
        Assert.Contains("       CALL-SUCC  |          1|          0|CALL-FAIL  |          0|          0|\r\n", display);
        Assert.Contains("       EXT-SUCC   |          1|          0|EXT-FAIL   |          0|          0|\r\n", display);
        Assert.Contains("       LOCAL-SUCC |          1|          0|LOCAL-FAIL |          0|          0|\r\n", display);
        await console.SendAsync("d d smtp\r\n");
        Assert.Contains("QUEUE-OUT:1", await console.ReadUntilAsync("] ABILIS_CPX:"));

        // The same through 'abilisfast ctl', as a script would.
        var (ctlExit, ctlOutput) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["ctl", "--port", adminPort.ToString(), "d s smtp"], stdin: password + "\n");
        Assert.True(ctlExit == 0, ctlOutput);
        Assert.Contains("       EXT-SUCC   |          1|          0|EXT-FAIL   |          0|          0|\n", ctlOutput);
        Assert.DoesNotContain("ABILIS_CPX:", ctlOutput);
        var (badExit, badOutput) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["ctl", "--port", adminPort.ToString(), "d d smtp"], stdin: "wrong\n");
        Assert.Equal(5, badExit);
        Assert.Contains("login as 'admin' on 127.0.0.1:" + adminPort + " refused", badOutput);
        var (errExit, errOutput) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["ctl", "--port", adminPort.ToString(), "d x smtp"], stdin: password + "\n");
        Assert.Equal(1, errExit);
        Assert.Contains("ERROR: unknown display 'x'", errOutput);
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        server.DeleteWorkDir();
    }

    /// <summary>
    /// The first start's password is in WDIR/initial-admin-password (mode 0600 under umask 022,
    /// one line admin PASSWORD), never on standard error (the journal under systemd); it logs in
    /// with a real telnet client; a restart keeps it; abilisfast user changing the password
    /// removes it; a file whose user is no administrator is removed at the next start.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task TheFirstPasswordIsInAPrivateFileNotOnStandardErrorAndGoesWhenChanged()
    {
        string workDir = ServerProcess.NewWorkDir();
        string data = Path.Combine(workDir, "data");
        string file = Path.Combine(data, "initial-admin-password");
        string password;
        using (ServerProcess server = await ServerProcess.StartWithUmaskAsync("022", workDir, "NODENAME:ABILIS_CPX"))
        {
            Match line = Regex.Match(await File.ReadAllTextAsync(file), "^admin ([A-Za-z0-9]{16})\n$");
            Assert.True(line.Success, "the file holds one line 'admin PASSWORD'");
            password = line.Groups[1].Value;
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.DoesNotContain(password, server.Stderr);
            Assert.Contains($"abilisfast: first start: console user 'admin' created; its password is in {file} (mode 0600, readable by this user only); " +
                $"change it with: abilisfast user admin --rights admin --wdir {data} (the file is then removed)", server.Stderr);

            string session = await TelnetAsync(server.AdminPort, "admin", password, "d d smtp");
            Assert.Contains("] ABILIS_CPX:", session);
            Assert.Contains("RES:Smtp ---", session);
            Assert.Contains("QUEUE-OUT:0", session);
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        // A restart finds the admin and leaves the file (its password still counts).
        using (ServerProcess again = await ServerProcess.StartAsync(workDir))
        {
            Assert.DoesNotContain("console user", again.Stderr);
            Assert.Equal($"admin {password}\n", await File.ReadAllTextAsync(file));

            // The password changed while the server runs: the file goes, the new password logs in, the old one no longer.
            var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["user", "admin", "--rights", "admin", "--wdir", data], stdin: "a new password\n");
            Assert.True(exit == 0, output);
            Assert.Contains($"abilisfast: removed {file}: it held the first password of 'admin'", output);
            Assert.False(File.Exists(file));
            Assert.Contains("QUEUE-OUT:0", await TelnetAsync(again.AdminPort, "admin", "a new password", "d d smtp"));
            Assert.Contains("Login incorrect", await TelnetAsync(again.AdminPort, "admin", password, null));
            Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        // A file left from before whose user is no administrator (a users file restored, say) is removed at start.
        File.WriteAllText(file, $"ghost {password}\n");
        using (ServerProcess third = await ServerProcess.StartAsync(workDir))
        {
            Assert.Contains($"abilisfast: removed {file}: 'ghost' is no longer a user with admin rights", third.Stderr);
            Assert.False(File.Exists(file));
            Assert.DoesNotContain("console user", third.Stderr);
            Assert.Equal(0, await third.TerminateAsync(TimeSpan.FromSeconds(20)));
            third.DeleteWorkDir();
        }
    }

    /// <summary>
    /// Logs in to the admin port with the telnet client (netkit telnet, a real peer), runs
    /// <paramref name="command"/> when given (else expects the refusal), and returns all it printed.
    /// </summary>
    private static async Task<string> TelnetAsync(int port, string user, string password, string? command)
    {
        var info = new System.Diagnostics.ProcessStartInfo("telnet", ["127.0.0.1", port.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var telnet = System.Diagnostics.Process.Start(info)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new StringBuilder();
        var buffer = new char[4096];
        async Task UntilAsync(Func<string, bool> done, string what)
        {
            while (!done(seen.ToString()))
            {
                int n = await telnet.StandardOutput.ReadAsync(buffer, deadline.Token);
                Assert.True(n > 0, $"telnet ended before {what}: {seen}");
                seen.Append(buffer, 0, n);
            }
        }

        async Task SendAsync(string line)
        {
            await telnet.StandardInput.WriteLineAsync(line);
            await telnet.StandardInput.FlushAsync();
        }

        static int Prompts(string text) => Regex.Count(text, @"\[\d\d:\d\d:\d\d\] \S+:");
        await UntilAsync(t => t.Contains("Login:", StringComparison.Ordinal), "Login:");
        await SendAsync(user);
        await UntilAsync(t => t.Contains("Password:", StringComparison.Ordinal), "Password:");
        await SendAsync(password);
        if (command is null)
        {
            await UntilAsync(t => t.Contains("Login incorrect", StringComparison.Ordinal), "the refusal");
        }
        else
        {
            await UntilAsync(t => Prompts(t) >= 1, "the prompt");
            await SendAsync(command);
            await UntilAsync(t => Prompts(t) >= 2, "the prompt after the command");
        }

        telnet.StandardInput.Close();
        await telnet.WaitForExitAsync(deadline.Token);
        seen.Append(await telnet.StandardOutput.ReadToEndAsync(deadline.Token));
        return seen.ToString();
    }

    [Fact]
    public async Task UserCommandSetsAHashedUserFromStandardInput()
    {
        string dir = ServerProcess.NewWorkDir();
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["user", "bob", "--rights", "super", "--wdir", dir], stdin: "s3cret pass\n");
        Assert.True(exit == 0, output);
        Assert.Equal(UserRights.Super, UserStore.Load(dir).Verify("bob", "s3cret pass"));

        var (bad, message) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["user", "bob", "--rights", "root", "--wdir", dir], stdin: "x\n");
        Assert.Equal(2, bad);
        Assert.Contains("--rights root is invalid: allowed user, admin, super, mail", message);
        Directory.Delete(dir, recursive: true);
    }
}
