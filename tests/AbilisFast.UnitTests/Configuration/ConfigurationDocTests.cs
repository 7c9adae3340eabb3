namespace AbilisFast.Server.Tests.Configuration;

/// <summary>
/// docs/configuration.md shows the output of <c>abilisfast --help</c>, which lists every parameter
/// with its default, range and whether it takes effect live or after a restart: the document is
/// checked against the parameter table here, so it cannot go stale. tools/config-doc.sh rewrites it.
/// </summary>
public sealed class ConfigurationDocTests
{
    private const string Opening = "This is the output of `abilisfast --help`:\n\n```\n";

    [Fact]
    public void TheDocumentShowsTheHelpOfThisBuild()
    {
        string path = Path.Combine(ServerProcess.RepositoryRoot(), "docs", "configuration.md");
        string text = File.ReadAllText(path).ReplaceLineEndings("\n");
        int start = text.IndexOf(Opening, StringComparison.Ordinal);
        Assert.True(start >= 0, $"{path} has no line \"This is the output of `abilisfast --help`:\" followed by a code block");
        start += Opening.Length;
        int end = text.IndexOf("\n```", start - 1, StringComparison.Ordinal);
        string shown = text[start..(end + 1)];
        string help = Subcommands.Help().ReplaceLineEndings("\n");
        Assert.True(help == shown, $"docs/configuration.md is not the --help of this build: run tools/config-doc.sh\nfirst difference at line {FirstDifference(help, shown)}");
    }

    [Fact]
    public void TheHelpNamesEveryParameterOnALineOfItsOwn()
    {
        string[] lines = Subcommands.Help().Split('\n');
        foreach (ParameterDefinition definition in ParameterTable.All)
        {
            string line = Assert.Single(lines, l => l.StartsWith("  " + definition.Name + " ", StringComparison.Ordinal));
            Assert.Contains(definition.DefaultText.Length == 0 ? "(empty)" : definition.DefaultText, line, StringComparison.Ordinal);
        }
    }

    private static int FirstDifference(string a, string b)
    {
        string[] x = a.Split('\n');
        string[] y = b.Split('\n');
        int i = 0;
        while (i < x.Length && i < y.Length && x[i] == y[i])
        {
            i++;
        }

        return i + 1;
    }
}
