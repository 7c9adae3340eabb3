namespace AbilisFast.Server.Tests.Configuration;

/// <summary>The sample configuration of <c>abilisfast --sample-config</c>, read back by the real loader.</summary>
public sealed class SampleConfigTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void EveryParameterIsDocumentedWithMeaningDefaultAllowedAndLiveOrRestart()
    {
        string[] lines = SampleConfig.Build().Split('\n');
        foreach (ParameterDefinition d in ParameterTable.All)
        {
            int title = Array.IndexOf(lines, $"# {d.Name}: {d.Meaning}");
            Assert.True(title >= 0, $"{d.Name}: no '# NAME: meaning' line");
            string facts = lines[title + 1];
            Assert.StartsWith("#   default ", facts);
            Assert.Contains($"; allowed {d.Allowed}; ", facts);
            Assert.EndsWith(d.Live ? "; live" : "; restart", facts);
            if (d.Name != ParameterNames.NodeName)
            {
                Assert.Contains($"default {(d.DefaultText.Length == 0 ? "(empty)" : d.DefaultText)};", facts);
            }

            Assert.StartsWith($"#{d.Name}:", lines[title + 2]);
        }

        foreach (string name in IpBanParameters.Names)
        {
            Assert.Contains(lines, l => l.StartsWith($"#ipban {name}:", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void AsPrintedTheFileLoadsAndChangesNothing()
    {
        string file = _dir.Write("abilisfast.conf", SampleConfig.Build());
        ParameterStore store = ConfigurationLoader.LoadStore(CommandLine.Parse(["--config", file]));
        foreach (ParameterDefinition d in ParameterTable.All)
        {
            Assert.Equal(ParameterStore.DefaultSource, store.GetSource(d.Name));
        }

        SmtpSettings settings = store.ToSettings(_dir.Path);
        Assert.Equal(2525, settings.TcpLocPort);
        Assert.Equal(Path.Combine(_dir.Path, ParameterTable.DefaultWorkDir), settings.WorkDir);
    }

    [Fact]
    public void EverySettingLineUncommentedIsTakenByTheLoaderAndGivesTheDefault()
    {
        string file = _dir.Write("abilisfast.conf", SampleConfigText.Uncommented(SampleConfig.Build()));
        ParameterStore store = ConfigurationLoader.LoadStore(CommandLine.Parse(["--config", file]));
        foreach (ParameterDefinition d in ParameterTable.All)
        {
            // Each parameter was really set by a line of the file, to its default.
            Assert.StartsWith(file + ":", store.GetSource(d.Name));
            string expected = d.Name == ParameterNames.NodeName ? SampleConfig.NodeNameExample
                : d.Name == ParameterNames.SubmissionPort ? SampleConfig.SubmissionPortExample : d.DefaultText;
            Assert.Equal(expected, store.GetValue(d.Name));
        }

        Assert.Equal(IpBanParameters.Format(IpBanOptions.Default), IpBanParameters.Format(store.IpBan));
        Assert.True(store.IpLists.Contains("Office"));
        Assert.True(store.TryValidate(out string error), error);
        Assert.Equal(2525, store.ToSettings(_dir.Path).TcpLocPort);
    }

    [Fact]
    public void SampleConfigIsAnOptionOfTheCommandLine()
    {
        Assert.True(CommandLine.Parse(["--sample-config"]).SampleConfig);
        Assert.False(CommandLine.Parse([]).SampleConfig);
        Assert.Contains("--sample-config", HelpText.Build());
    }
}
