namespace AbilisFast.Protocol.Tests.Esmtp;

public sealed class EsmtpParameterTests
{
    private static (List<string> Items, bool Malformed) Enumerate(string parameters)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(parameters);
        var items = new List<string>();
        var e = new EsmtpParameterEnumerator(bytes);
        foreach (EsmtpParameter p in e)
        {
            string k = Encoding.ASCII.GetString(p.Keyword);
            items.Add(p.HasValue ? k + "=" + Encoding.ASCII.GetString(p.Value) : k);
        }

        // foreach works on a copy; re-run with MoveNext to read the flag.
        while (e.MoveNext())
        {
        }

        return (items, e.Malformed);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("   ", "")]
    [InlineData("SIZE=100", "SIZE=100")]
    [InlineData("SIZE=100 BODY=8BITMIME", "SIZE=100|BODY=8BITMIME")]
    [InlineData("SMTPUTF8", "SMTPUTF8")]
    [InlineData("SMTPUTF8  REQUIRETLS ", "SMTPUTF8|REQUIRETLS")]
    [InlineData("ORCPT=rfc822;a+2Bb@c.example NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;a+2Bb@c.example|NOTIFY=SUCCESS,FAILURE")]
    [InlineData("X-FOO=~!\"#<>", "X-FOO=~!\"#<>")]
    [InlineData("9x-y-=1", "9x-y-=1")]
    public void EnumeratesWellFormed(string parameters, string expected)
    {
        var (items, malformed) = Enumerate(parameters);
        Assert.False(malformed);
        Assert.Equal(expected, string.Join('|', items));
    }

    [Theory]
    [InlineData("=1", "")]
    [InlineData("SIZE=", "")]
    [InlineData("SIZE=1=2", "")]
    [InlineData("-SIZE=1", "")]
    [InlineData("SI_ZE=1", "")]
    [InlineData("BODY=8BITMIME SIZE=\u007f", "BODY=8BITMIME")]
    [InlineData("A=1 B\tC", "A=1")]
    [InlineData("A=1 B=\u00e9", "A=1")]
    [InlineData("A=1 \u00e9", "A=1")]
    [InlineData("A=1 B= C=2", "A=1")]
    public void MalformedStopsAndFlags(string parameters, string expectedBefore)
    {
        var (items, malformed) = Enumerate(parameters);
        Assert.True(malformed);
        Assert.Equal(expectedBefore, string.Join('|', items));
    }

    [Fact]
    public void KeywordComparisonIsCaseInsensitive()
    {
        var e = new EsmtpParameterEnumerator("body=8bitmime smtputf8"u8);
        Assert.True(e.MoveNext());
        Assert.True(e.Current.Is("BODY"u8));
        Assert.True(e.Current.HasValue);
        Assert.True(e.MoveNext());
        Assert.True(e.Current.Is("SMTPUTF8"u8));
        Assert.False(e.Current.HasValue);
        Assert.True(e.Current.Value.IsEmpty);
        Assert.False(e.MoveNext());
        Assert.False(e.Malformed);
    }

    [Theory]
    [InlineData("0", true, 0L)]
    [InlineData("100", true, 100L)]
    [InlineData("0000123", true, 123L)]
    [InlineData("9223372036854775807", true, long.MaxValue)]
    [InlineData("9223372036854775808", false, 0L)]
    [InlineData("99999999999999999999", false, 0L)]
    [InlineData("", false, 0L)]
    [InlineData("-1", false, 0L)]
    [InlineData("+1", false, 0L)]
    [InlineData("1 ", false, 0L)]
    [InlineData("1e3", false, 0L)]
    [InlineData("0x10", false, 0L)]
    public void ParsesSize(string value, bool ok, long expected)
    {
        Assert.Equal(ok, EsmtpParameters.TryParseSize(Encoding.ASCII.GetBytes(value), out long size));
        Assert.Equal(expected, size);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("rfc822;a+2Bb@c.example")]
    [InlineData("+2B+3D+20")]
    public void ValidXtextIsAccepted(string value) => Assert.True(EsmtpParameters.IsValidXtext(Encoding.Latin1.GetBytes(value)));

    [Theory]
    [InlineData("a+2b")]
    [InlineData("a+2")]
    [InlineData("a+")]
    [InlineData("a+G0")]
    [InlineData("a=b")]
    [InlineData("a b")]
    [InlineData("a\u007fb")]
    public void MalformedXtextIsRefused(string value) => Assert.False(EsmtpParameters.IsValidXtext(Encoding.Latin1.GetBytes(value)));
}
