namespace AbilisFast.Protocol.Tests.Esmtp;

public sealed class RcptParametersTests
{
    /// <summary>The RCPT TO parameters as parsed ("Ok" and what was kept), or the reason they are refused.</summary>
    [Theory]
    [InlineData("", "Ok")]
    [InlineData("NOTIFY=NEVER", "Ok notify=Never")]
    [InlineData("notify=success,failure,delay", "Ok notify=Success, Failure, Delay")]
    [InlineData("NOTIFY=DELAY,SUCCESS", "Ok notify=Success, Delay")]
    [InlineData("ORCPT=rfc822;a+2Bb@c.example", "Ok orcpt=rfc822;a+2Bb@c.example")]
    [InlineData("ORCPT=utf-8;x  NOTIFY=FAILURE", "Ok notify=Failure orcpt=utf-8;x")]
    [InlineData("ORCPT=rfc822;", "Ok orcpt=rfc822;")]
    // Refused, with the reason.
    [InlineData("NOTIFY=NEVER,SUCCESS", "BadDsn")]
    [InlineData("NOTIFY=SUCCESS,SUCCESS", "BadDsn")]
    [InlineData("NOTIFY=SUCCESS,", "BadDsn")]
    [InlineData("NOTIFY=ALWAYS", "BadDsn")]
    [InlineData("NOTIFY=SUCCESS NOTIFY=FAILURE", "Unsupported")]
    [InlineData("NOTIFY", "Unsupported")]
    [InlineData("ORCPT=a@b", "BadDsn")]
    [InlineData("ORCPT=;a@b", "BadDsn")]
    [InlineData("ORCPT=rfc_822;a@b", "BadDsn")]
    [InlineData("ORCPT=rfc822;a+2", "BadDsn")]
    [InlineData("ORCPT=rfc822;a ORCPT=rfc822;b", "Unsupported")]
    [InlineData("SIZE=1", "Unsupported")]
    [InlineData("AUTH=<>", "Unsupported")]
    [InlineData("NOTIFY=NEVER X=", "Unsupported")]
    [InlineData("X= NOTIFY=BAD", "Unsupported")]
    public void WellFormedAreTakenOthersRefusedWithTheReason(string parameters, string expected) => Assert.Equal(expected, EsmtpText.Rcpt(parameters));

    [Fact]
    public void OriginalRecipientIsAtMostFiveHundredCharacters()
    {
        string ok = "rfc822;" + new string('x', 493);
        Assert.Equal("Ok orcpt=" + ok, EsmtpText.Rcpt("ORCPT=" + ok));
        Assert.Equal("BadDsn", EsmtpText.Rcpt("ORCPT=" + ok + "x"));
    }
}
