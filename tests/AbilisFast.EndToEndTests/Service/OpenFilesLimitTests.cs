namespace AbilisFast.Server.Tests.Service;

/// <summary>The open-files limit raised at start (soft to hard): util-linux prlimit lowers it, /proc/self/limits says what the kernel holds.</summary>
public sealed class OpenFilesLimitTests
{
    [Fact]
    public async Task The_soft_limit_is_raised_to_the_hard_one()
    {
        ulong hard = ReadLimits().Hard;
        Assert.True(hard > 64, $"hard open-files limit {hard}");

        // util-linux prlimit lowers this process's soft limit a little (it never goes back up by itself).
        ulong lowered = hard == ulong.MaxValue ? 1 << 20 : hard - 1;
        var (exit, output) = await Tool.RunAsync("prlimit", [$"--pid={Environment.ProcessId}", $"--nofile={lowered}:{(hard == ulong.MaxValue ? "unlimited" : hard)}"]);
        Assert.True(exit == 0, $"prlimit: exit {exit}: {output}");
        Assert.Equal(lowered, ReadLimits().Soft);

        var raised = OpenFilesLimit.RaiseToHard();
        Assert.NotNull(raised);
        Assert.Equal(lowered, raised.Value.Before);
        Assert.Equal(hard, raised.Value.Now);
        Assert.Equal(hard, raised.Value.Hard);
        Assert.Equal((hard, hard), ReadLimits());
    }

    /// <summary>"Max open files  soft  hard  files" from /proc/self/limits.</summary>
    private static (ulong Soft, ulong Hard) ReadLimits()
    {
        string line = File.ReadAllLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        static ulong Parse(string s) => s == "unlimited" ? ulong.MaxValue : ulong.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
        return (Parse(fields[0]), Parse(fields[1]));
    }
}
