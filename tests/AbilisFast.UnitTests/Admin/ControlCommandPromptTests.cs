using System.Text.RegularExpressions;
using AbilisFast.Server.Admin;

namespace AbilisFast.Server.Tests.Admin;

/// <summary>
/// <c>abilisfast ctl</c> knows the console is done when the text ends with its prompt
/// (<c>[hh:mm:ss] user@host:</c>); the span scan finds it where the pattern it replaced did.
/// </summary>
public sealed class ControlCommandPromptTests
{
    // The pattern the scan replaced (a regular expression kept System.Text.RegularExpressions in the binary).
    private static readonly Regex Reference = new(@"\[\d\d:\d\d:\d\d\] [^\r\n]*:$", RegexOptions.CultureInvariant);

    [Theory]
    [InlineData("\r\n[12:34:56] admin@host:", 2)]
    [InlineData("\r\n[12:34:56] admin@host:\n", 2)]
    [InlineData("line\r\n  SMTP: ok\r\n[00:00:00] a:", 18)]
    [InlineData("[23:59:59] x:y:", 0)]
    [InlineData("x [01:02:03] [04:05:06] admin:", 2)]
    [InlineData("[12:34:56] admin@host", -1)]
    [InlineData("[12:34:56] admin@host:\r\n", -1)]
    [InlineData("[12:34:56]admin@host:", -1)]
    [InlineData("[12:34:56] :", 0)]
    [InlineData("[12:34:56] ", -1)]
    [InlineData("[12:34:5x] admin:", -1)]
    [InlineData("[12:34:56] admin:\r\nmore:", -1)]
    [InlineData("Password:", -1)]
    [InlineData(":", -1)]
    [InlineData("", -1)]
    [InlineData("\n", -1)]
    public void FindsThePromptWhereThePatternDid(string text, int start)
    {
        Assert.Equal(start, ControlCommand.PromptStart(text));
        Match reference = Reference.Match(text);
        Assert.Equal(reference.Success ? reference.Index : -1, start);
        Assert.Equal(Reference.Replace(text, string.Empty), ControlCommand.WithoutPrompt(text));
    }
}
