namespace AbilisFast.Server.Tests.Recipients;

public sealed class AliasFileTests
{
    private static AliasFile Parse(string text) => AliasFile.Parse("/w/aliases", text.Split('\n'));

    [Fact]
    public void ParsesTheAliasesSyntaxWithCommentsContinuationLinesAndCatchAlls()
    {
        AliasFile file = Parse("""
            # who gets what
            postmaster: bob

            team: bob, carol,
              dave@far.test
            	# a comment inside does not end the entry
            	, erin
            @Local.Test: bob
            @bücher.test: carol
            """);

        Assert.Equal(["postmaster", "team", "@local.test", "@xn--bcher-kva.test"], file.Entries.Select(e => e.Name));
        AliasEntry team = file.Entries[1];
        Assert.Equal(4, team.Line);
        Assert.Equal(
            [("bob", false, 4), ("carol", false, 4), ("dave@far.test", true, 5), ("erin", false, 7)],
            team.Targets.Select(t => (t.Text, t.IsAddress, t.Line)));
        Assert.Equal("local.test", file.Entries[2].CatchAllDomain);
        Assert.Equal("xn--bcher-kva.test", file.Entries[3].CatchAllDomain);
    }

    /// <summary>
    /// One alias continued over 100,000 lines: every target keeps its own line number (the
    /// continuation is collected and numbered in linear time; it used to be copied once per line).
    /// </summary>
    [Fact]
    public void ALongContinuedAliasKeepsTheLineOfEveryTarget()
    {
        const int Lines = 100_000;
        AliasFile file = Parse("list: u0@far.test\n" + string.Join('\n', Enumerable.Range(1, Lines - 1).Select(i => $"  , u{i}@far.test")));
        AliasEntry list = Assert.Single(file.Entries);
        Assert.Equal(Lines, list.Targets.Count);
        Assert.Equal(Enumerable.Range(1, Lines), list.Targets.Select(t => t.Line));
        Assert.Equal($"u{Lines - 1}@far.test", list.Targets[^1].Text);
    }

    [Theory]
    [InlineData("a: |/usr/bin/procmail", "/w/aliases:1: 'a': program targets (|command) are refused")]
    [InlineData("a: bob,\n  \"|/bin/sh -c x\"", "/w/aliases:2: 'a': quoted targets")]
    [InlineData("a: bob\nb: :include:/etc/list", "/w/aliases:2: 'b': :include: targets are refused")]
    [InlineData("a: /var/mail/a", "/w/aliases:1: 'a': file targets (/path) are refused")]
    [InlineData("a: bob\n\na: carol", "/w/aliases:3: 'a' is defined again (first at line 1)")]
    [InlineData("A: bob\na: carol", "/w/aliases:2: 'a' is defined again (first at line 1)")]
    [InlineData("just a line", "/w/aliases:1: expected 'name: target, target, ...'")]
    [InlineData("  bob", "/w/aliases:1: a continuation line (it starts with white space) with no alias before it")]
    [InlineData("a: bob,,carol", "/w/aliases:1: 'a' has an empty target")]
    [InlineData("a: bob,", "/w/aliases:1: 'a' has an empty target")]
    [InlineData("a@local.test: bob", "/w/aliases:1: 'a@local.test': an alias name is a local part")]
    [InlineData("@: bob", "/w/aliases:1: '@' is not @ and a domain name")]
    [InlineData("a b: bob", "/w/aliases:1: 'a b' is not a valid alias name")]
    [InlineData("a%b: bob", "/w/aliases:1: 'a%b' is not a valid alias name")]
    [InlineData("a: bob carol", "/w/aliases:1: 'a': 'bob carol' is neither a local name nor an address")]
    [InlineData("a: x@", "/w/aliases:1: 'a': 'x@' is not a valid mail address")]
    public void ErrorsNameTheFileAndTheLine(string text, string expected)
    {
        AliasFileException e = Assert.Throws<AliasFileException>(() => Parse(text));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAbsentFileIsEmpty()
    {
        string path = Path.Combine(Path.GetTempPath(), "abilisfast-no-aliases-" + Guid.NewGuid().ToString("N"));
        Assert.Empty(AliasFile.Load(path).Entries);
    }
}
