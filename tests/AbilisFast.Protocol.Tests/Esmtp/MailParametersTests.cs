namespace AbilisFast.Protocol.Tests.Esmtp;

public sealed class MailParametersTests
{
    /// <summary>The MAIL FROM parameters as parsed ("Ok" and what was kept), or the reason they are refused.</summary>
    [Theory]
    [InlineData("", "Ok")]
    [InlineData("   ", "Ok")]
    [InlineData("SIZE=0", "Ok size=0")]
    [InlineData("size=1048576", "Ok size=1048576")]
    [InlineData("SIZE=9223372036854775807", "Ok size=9223372036854775807")]
    [InlineData("SIZE=1 SIZE=2", "Ok size=2")]
    [InlineData("BODY=8BITMIME", "Ok 8bit")]
    [InlineData("body=7bit", "Ok")]
    [InlineData("BODY=8BITMIME BODY=7BIT", "Ok")]
    [InlineData("SMTPUTF8", "Ok utf8")]
    [InlineData("SMTPUTF8 smtputf8", "Ok utf8")]
    [InlineData("RET=FULL", "Ok ret=Full")]
    [InlineData("ret=hdrs", "Ok ret=Headers")]
    [InlineData("ENVID=QQ+2B1", "Ok envid=QQ+2B1")]
    [InlineData("AUTH=<>", "Ok auth=<>")]
    [InlineData("AUTH=bob+2Bx@client.test", "Ok auth=bob+2Bx@client.test")]
    [InlineData("SIZE=100  BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id-1 AUTH=a@b ", "Ok size=100 8bit utf8 ret=Headers envid=id-1 auth=a@b")]
    // Refused, with the reason.
    [InlineData("SIZE", "Unsupported")]
    [InlineData("SIZE=-1", "Unsupported")]
    [InlineData("SIZE=1k", "Unsupported")]
    [InlineData("SIZE=9223372036854775808", "Unsupported")]
    [InlineData("BODY=BINARYMIME", "Unsupported")]
    [InlineData("BODY", "Unsupported")]
    [InlineData("SMTPUTF8=YES", "Unsupported")]
    [InlineData("REQUIRETLS", "Unsupported")]
    [InlineData("X-FOO=1", "Unsupported")]
    [InlineData("SIZE=", "Unsupported")]
    [InlineData("=1", "Unsupported")]
    [InlineData("RET=NONE", "BadDsn")]
    [InlineData("RET=FULL RET=FULL", "Unsupported")]
    [InlineData("RET=FULL RET=BAD", "Unsupported")]
    [InlineData("ENVID=a+2b", "BadDsn")]
    [InlineData("ENVID=a+", "BadDsn")]
    [InlineData("ENVID=a ENVID=b", "Unsupported")]
    [InlineData("AUTH=a+zz", "BadAuth")]
    [InlineData("AUTH", "Unsupported")]
    [InlineData("AUTH=<> AUTH=<>", "Unsupported")]
    [InlineData("SIZE=1 \u00e9", "Unsupported")]
    // Several bad parameters: the first one decides the reason.
    [InlineData("X-FOO RET=BAD", "Unsupported")]
    [InlineData("RET=BAD X-FOO", "BadDsn")]
    [InlineData("AUTH=+ RET=BAD", "BadAuth")]
    [InlineData("RET=BAD AUTH=+", "BadDsn")]
    [InlineData("RET=BAD SIZE=\u007f", "BadDsn")]
    [InlineData("SIZE=\u007f RET=BAD", "Unsupported")]
    public void WellFormedAreTakenOthersRefusedWithTheReason(string parameters, string expected) => Assert.Equal(expected, EsmtpText.Mail(parameters));

    [Fact]
    public void EnvelopeIdIsAtMostAHundredCharacters()
    {
        Assert.Equal("Ok envid=" + new string('x', 100), EsmtpText.Mail("ENVID=" + new string('x', 100)));
        Assert.Equal("BadDsn", EsmtpText.Mail("ENVID=" + new string('x', 101)));
    }

    [Fact]
    public void AuthIsAnUnknownParameterWhereAuthIsNotOffered()
    {
        Assert.Equal("Unsupported", EsmtpText.Mail("AUTH=<>", authOffered: false));
        Assert.Equal("Unsupported", EsmtpText.Mail("SIZE=1 AUTH=a@b", authOffered: false));
        Assert.Equal("Ok size=1", EsmtpText.Mail("SIZE=1", authOffered: false));
    }

    [Fact]
    public void AuthUnknownIsTheNullMailbox()
    {
        Assert.Equal(ParameterStatus.Ok, MailParameters.Parse("AUTH=<>"u8, true, out MailParameters unknown));
        Assert.True(unknown.AuthIsUnknown);
        Assert.Equal(ParameterStatus.Ok, MailParameters.Parse("AUTH=a@b"u8, true, out MailParameters known));
        Assert.False(known.AuthIsUnknown);
        Assert.Equal(ParameterStatus.Ok, MailParameters.Parse(""u8, true, out MailParameters none));
        Assert.False(none.AuthIsUnknown);
        Assert.False(none.HasAuth);
    }

    [Fact]
    public void ParsingAllocatesNothing()
    {
        ReadOnlySpan<byte> parameters = "SIZE=100 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id-1 AUTH=a@b"u8;
        MailParameters.Parse(parameters, true, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            MailParameters.Parse(parameters, true, out _);
            RcptParameters.Parse("NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a@b"u8, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
