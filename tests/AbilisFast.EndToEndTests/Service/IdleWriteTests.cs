namespace AbilisFast.Server.Tests.Service;

/// <summary>
/// An idle server writes nothing to disk: over an idle period the process's write_bytes (bytes it
/// sent towards the storage layer) does not grow, no file under WDIR changes (length or time of last
/// write: that also catches an append into a page already dirty, which write_bytes would not count
/// again), and nothing more reaches standard error. The count of write system calls (syscw) is not a
/// measure of that: now and then it moved by two in 4 s, with LOG:NO as well as LOG:YES, while no
/// file and no byte on disk changed (most likely the runtime's own wake-ups through a pipe or an
/// eventfd). Runs alone, after the parallel tests.
/// </summary>
[Collection(FootprintCollection.Name)]
public sealed class IdleWriteTests
{
    [Theory]
    [InlineData("LOG:YES")]
    [InlineData("LOG:NO")]
    public async Task An_idle_server_writes_nothing(string log)
    {
        using ServerProcess server = await ServerProcess.StartAsync(null, null, (int?)null, log, "LOCAL-DOMAIN:local.test", "STORE-MB:YES");

        // Some traffic first (with LOG:YES it reaches the file), then let the writer settle.
        Assert.Equal("250", (await ServiceEndToEndTests.RcptAsync(server, 1)).Codes);
        string logFile = Path.Combine(server.WorkDir, "data", "log", "smtp.log");
        if (log == "LOG:YES")
        {
            await Eventually.WaitAsync(() => File.Exists(logFile) && File.ReadAllText(logFile).Contains("Start in-bound session", StringComparison.Ordinal) ? "" : null, "the session log in smtp.log");
        }

        // Settle: the session's last lines may reach the ring (and the file) a little later on a busy
        // machine; wait until two readings 1.5 s apart agree (at most about 15 s), then measure.
        string before = Writes(server);
        for (int i = 0; i < 10; i++)
        {
            await Eventually.LetTimePassAsync(TimeSpan.FromSeconds(1.5), "two readings apart");
            string settled = Writes(server);
            if (settled == before)
            {
                break;
            }

            before = settled;
        }

        await Eventually.HoldsForAsync(() => Writes(server) == before, TimeSpan.FromSeconds(4), "no write while idle");
        Assert.Equal(before, Writes(server));
        Assert.Equal(log == "LOG:YES", File.Exists(logFile));
        server.DeleteWorkDir();
    }

    /// <summary>
    /// What the server has written so far: write_bytes from /proc/PID/io, every file under WDIR with
    /// its length and time of last write, and the length of its standard error.
    /// </summary>
    private static string Writes(ServerProcess server)
    {
        var text = new StringBuilder();
        string writeBytes = File.ReadAllLines($"/proc/{server.Pid}/io").Single(l => l.StartsWith("write_bytes:", StringComparison.Ordinal));
        text.Append(writeBytes).Append('\n');
        foreach (string path in Directory.GetFiles(server.WorkDir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(path);
            text.Append(CultureInfo.InvariantCulture, $"{path} {info.Length} {info.LastWriteTimeUtc:O}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"stderr {server.Stderr.Length}\n");
        return text.ToString();
    }
}
