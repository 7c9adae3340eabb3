using AbilisFast.Server.Service;

namespace AbilisFast.Server.Tests.Service;

/// <summary>The start-up's open-files warning, and the systemd unit's LimitNOFILE against the largest SES-TOT.</summary>
public sealed class OpenFilesWarningTests
{
    [Fact]
    public void A_limit_too_low_for_SES_TOT_gives_a_warning_that_says_what_to_do()
    {
        Assert.Null(OpenFilesLimit.Check(10_000, 65536));
        Assert.Null(OpenFilesLimit.Check(10_000, 10_000 + OpenFilesLimit.Reserve));
        string? warning = OpenFilesLimit.Check(10_000, 1024);
        Assert.NotNull(warning);
        Assert.Contains("open-files limit 1024 is below SES-TOT 10000", warning);
        Assert.Contains($"about {1024 - OpenFilesLimit.Reserve} sessions", warning);
        Assert.Contains("LimitNOFILE=", warning);
    }

    [Fact]
    public void The_systemd_unit_allows_the_largest_SES_TOT()
    {
        string unit = File.ReadAllText(Path.Combine(ServerProcess.RepositoryRoot(), "deploy", "abilisfast.service"));
        string line = unit.Split('\n').Single(l => l.StartsWith("LimitNOFILE=", StringComparison.Ordinal));
        ulong limit = ulong.Parse(line["LimitNOFILE=".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Null(OpenFilesLimit.Check(65535, limit));
    }
}
