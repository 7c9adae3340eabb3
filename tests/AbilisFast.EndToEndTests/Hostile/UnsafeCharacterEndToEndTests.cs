namespace AbilisFast.Server.Tests.Hostile;

/// <summary>The same against the real executable with swaks, and the console's view of the session log.</summary>
[Collection("EndToEnd")]
public sealed class UnsafeCharacterEndToEndTests
{
    [Fact]
    public async Task SwaksEhloWithANextLineOrCsiIsRefusedAndTheConsoleShowsNoRawControl()
    {
        using ServerProcess server = await ServerProcess.StartAsync(parameters: ["LOCAL-DOMAIN:local.test", "STORE-MB:YES"]);
        string port = server.Port.ToString(CultureInfo.InvariantCulture);
        Assert.Contains("Debug:ON", await server.CtlAsync("debug res:smtp lsn:1"));
        foreach (string name in new[] { "evil\u0085Received: from forged", "evil\u009b2J", "evil\u2028x" })
        {
            var (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{port}", "--ehlo", name, "--from", "s@client.test", "--to", "user@local.test"]);
            Assert.True(exit != 0, output);
            Assert.Contains("501 5.5.4 Syntax: EHLO hostname", output);
        }

        string log = await server.CtlAsync("debug res:smtp lsn:3");
        Assert.Contains("<- EHLO evil??Received: from forged", log);
        Assert.Contains("<- EHLO evil??2J", log);
        Assert.Contains("<- EHLO evil???x", log);
        foreach (char c in "\u0085\u009b\u2028")
        {
            Assert.DoesNotContain(c.ToString(), log, StringComparison.Ordinal);
        }

        // Nothing was queued under the forged name.
        Assert.Contains("QUEUE-OUT:0", await server.CtlAsync("d q smtp"));
        server.DeleteWorkDir();
    }
}
