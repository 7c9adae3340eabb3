using System.Globalization;
using AbilisFast.Server.Tests.Allocation;
using AbilisFast.Server.Tests.Support;

namespace AbilisFast.Server.Tests.Service;

/// <summary>
/// An idle server writes nothing to disk. Runs alone (after the parallel tests): another test's
/// client that reaches this server's port by chance (ports are reused) would make it log a session,
/// and with LOG:YES that is a write.
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
        (long writeBytes, long writeCalls) before = ReadIo(server.Pid);
        for (int i = 0; i < 10; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            (long writeBytes, long writeCalls) settled = ReadIo(server.Pid);
            if (settled == before)
            {
                break;
            }

            before = settled;
        }

        await Task.Delay(TimeSpan.FromSeconds(4));
        (long writeBytes, long writeCalls) after = ReadIo(server.Pid);

        Assert.Equal(before, after);
        Assert.Equal(log == "LOG:YES", File.Exists(logFile));
        server.DeleteWorkDir();
    }

    /// <summary>write_bytes (what reached the storage layer) and syscw (write system calls of any kind).</summary>
    private static (long WriteBytes, long WriteCalls) ReadIo(int pid)
    {
        string[] lines = File.ReadAllLines($"/proc/{pid}/io");
        long Field(string name) => long.Parse(lines.Single(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
        return (Field("write_bytes"), Field("syscw"));
    }
}
