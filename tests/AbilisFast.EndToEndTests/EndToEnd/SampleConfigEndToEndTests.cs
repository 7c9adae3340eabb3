namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary><c>abilisfast --sample-config</c> of the real executable, and a server started on what it printed.</summary>
[Collection("EndToEnd")]
public sealed class SampleConfigEndToEndTests
{
    [Fact]
    public async Task TheExecutablePrintsTheSampleAndAServerStartsOnItWithEveryLineUncommented()
    {
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["--sample-config"]);
        Assert.Equal(0, exit);
        Assert.Equal(SampleConfig.Build(), output);

        string dir = ServerProcess.NewWorkDir();
        string file = Path.Combine(dir, "abilisfast.conf");
        await File.WriteAllTextAsync(file, SampleConfigText.Uncommented(output));
        // The file sets TCP-LOCPORT:2525 and ADMIN-PORT:2323; the command line (free ports) overrides them.
        // It also sets SUBMISSION-PORT:587, which needs privileges: the command line turns it off.
        using ServerProcess server = await ServerProcess.StartAsync(dir, null, "--config", file, "SUBMISSION-PORT:0");
        string parameters = await server.CtlAsync("d p smtp");
        Assert.Contains($"NODENAME:{SampleConfig.NodeNameExample}", parameters);
        Assert.Contains("MSG-MAXSIZE:65535", parameters);
        Assert.Contains("SUBMISSION-RATE:30", parameters);
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(15)));
    }
}
