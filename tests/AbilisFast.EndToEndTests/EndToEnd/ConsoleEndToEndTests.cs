namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>The real executable's admin port and its user command.</summary>
[Collection("EndToEnd")]
public sealed partial class ConsoleEndToEndTests
{
    [GeneratedRegex("console user 'admin' created with password (\\S+) ")]
    private static partial Regex FirstPassword();

    [Fact]
    public async Task FirstStartCreatesAnAdminAndTheConsoleShowsTraffic()
    {
        int adminPort = ServerProcess.FreePort();
        using ServerProcess server = await ServerProcess.StartAsync(null, null, adminPort, "LOCAL-DOMAIN:local.test", "NODENAME:ABILIS_CPX", "STORE-MB:YES", "QUEUE-HOLD:YES");
        string password = FirstPassword().Match(server.Stderr).Groups[1].Value;
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
