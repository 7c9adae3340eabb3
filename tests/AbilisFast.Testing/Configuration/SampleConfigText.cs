namespace AbilisFast.Server.Tests.Configuration;

/// <summary>The text of <c>abilisfast --sample-config</c> as the tests use it.</summary>
internal static class SampleConfigText
{
    /// <summary>The sample with the leading '#' of every setting line removed (prose lines start "# " or are "#").</summary>
    internal static string Uncommented(string sample) =>
        string.Join('\n', sample.Split('\n').Select(l => l.Length > 1 && l[0] == '#' && l[1] != ' ' && l[1] != '#' ? l[1..] : l));
}
