namespace AbilisFast.Server.Tests.Hostile;

/// <summary>
/// The console cannot be locked before login: connections that never log in used to take all eight
/// console places for the five-minute idle timeout, and the administrator and <c>abilisfast ctl</c>
/// were refused. Now the oldest connection still at the login prompt gives its place to a new one.
/// </summary>
[Collection("EndToEnd")]
public sealed class ConsoleLockoutTests
{
    [Fact]
    public async Task TenConnectionsThatNeverLogInDoNotKeepCtlOut()
    {
        int adminPort = ServerProcess.FreePort();
        using ServerProcess server = await ServerProcess.StartAsync(null, null, adminPort, "LOCAL-DOMAIN:local.test");
        var idle = new List<ConsoleTestClient>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                ConsoleTestClient client = await ConsoleTestClient.ConnectAsync(adminPort);
                idle.Add(client);
                await client.ReadUntilAsync("Login:");
            }

            // The real command-line client, as a script or the administrator would run it.
            string output = await server.CtlAsync("d s smtp");
            Assert.Contains("CALL-SUCC", output);

            // And again: each new connection takes the place of the oldest one at the prompt.
            Assert.Contains("CALL-SUCC", await server.CtlAsync("d s smtp"));
        }
        finally
        {
            foreach (ConsoleTestClient client in idle)
            {
                await client.DisposeAsync();
            }
        }

        server.DeleteWorkDir();
    }
}
