namespace AbilisFast.Protocol.Tests.Commands;

public class CommandParserTests
{
    [Theory]
    [InlineData("HELO x", (int)SmtpVerb.Helo, "x")]
    [InlineData("helo x", (int)SmtpVerb.Helo, "x")]
    [InlineData("EhLo client.example", (int)SmtpVerb.Ehlo, "client.example")]
    [InlineData("MAIL FROM:<a@b>", (int)SmtpVerb.Mail, "FROM:<a@b>")]
    [InlineData("rcpt TO:<a@b>", (int)SmtpVerb.Rcpt, "TO:<a@b>")]
    [InlineData("DATA", (int)SmtpVerb.Data, "")]
    [InlineData("BDAT 10 LAST", (int)SmtpVerb.Bdat, "10 LAST")]
    [InlineData("RSET", (int)SmtpVerb.Rset, "")]
    [InlineData("NOOP", (int)SmtpVerb.Noop, "")]
    [InlineData("QUIT", (int)SmtpVerb.Quit, "")]
    [InlineData("VRFY user", (int)SmtpVerb.Vrfy, "user")]
    [InlineData("EXPN list", (int)SmtpVerb.Expn, "list")]
    [InlineData("HELP", (int)SmtpVerb.Help, "")]
    [InlineData("STARTTLS", (int)SmtpVerb.StartTls, "")]
    [InlineData("starttls", (int)SmtpVerb.StartTls, "")]
    [InlineData("AUTH PLAIN", (int)SmtpVerb.Auth, "PLAIN")]
    public void KnownVerbs(string line, int verb, string argument)
    {
        Assert.Equal((SmtpVerb)verb, CommandParser.Parse(Encoding.ASCII.GetBytes(line), out ReadOnlySpan<byte> arg));
        Assert.Equal(argument, Encoding.ASCII.GetString(arg));
    }

    [Theory]
    [InlineData("")]
    [InlineData("HEL")]
    [InlineData("MAILX FROM:<a@b>")]
    [InlineData("STAR")]
    [InlineData("STARTTLX")]
    [InlineData("STARTTLSX")]
    [InlineData("H\u00c9LO x")]
    [InlineData("1234")]
    [InlineData("HE O x")]
    [InlineData("M@IL FROM:<>")]
    [InlineData("DATA\tx")]
    [InlineData("GET / HTTP/1.1")]
    public void UnknownOrMalformedVerbs(string line)
    {
        Assert.Equal(SmtpVerb.Unknown, CommandParser.Parse(Encoding.Latin1.GetBytes(line), out _));
    }

    [Fact]
    public void FoldingDoesNotTurnSymbolsIntoLetters()
    {
        // '@' | 0x20 == '`' and '[' | 0x20 == '{': neither may fold into a verb.
        Assert.Equal(SmtpVerb.Unknown, CommandParser.Parse("M\u0001IL"u8, out _));
        Assert.Equal(SmtpVerb.Unknown, CommandParser.Parse("\u0008ELO"u8, out _));
    }

    [Theory]
    [InlineData("FROM:<a@b>", "<a@b>")]
    [InlineData("from:  <a@b>", "<a@b>")]
    [InlineData("From:<>", "<>")]
    public void KeywordsAreStrippedCaseInsensitively(string argument, string rest)
    {
        Assert.True(CommandParser.TryStripKeyword(Encoding.ASCII.GetBytes(argument), "FROM:"u8, out ReadOnlySpan<byte> r));
        Assert.Equal(rest, Encoding.ASCII.GetString(r));
    }

    [Fact]
    public void MissingKeywordIsReported()
    {
        Assert.False(CommandParser.TryStripKeyword("<a@b>"u8, "FROM:"u8, out _));
        Assert.False(CommandParser.TryStripKeyword("FRO"u8, "FROM:"u8, out _));
    }
}
