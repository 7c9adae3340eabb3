namespace AbilisFast.Server.Tests.Sessions;

/// <summary>RFC 3461 on the IN side: NOTIFY, ORCPT, RET and ENVID are accepted, checked and kept in the envelope.</summary>
public sealed class DsnParameterTests : IDisposable
{
    private readonly TestServerContext _server = new("LOCAL-DOMAIN:local.test");

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task DsnParametersAreKeptInTheStoredEnvelope()
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        await s.CommandAsync("EHLO client.test");
        await s.OpenDataAsync("<a@local.test> RET=HDRS ENVID=QQ314159+2Bx", "<b@local.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+40local.test", "<c@local.test> notify=never", "d@local.test");
        Assert.StartsWith("250 2.0.0", await s.CommandAsync("Subject: t\r\n\r\nx\r\n."));

        Envelope envelope = Assert.Single(_server.Stored()).Envelope;
        Assert.Equal(DsnReturn.Headers, envelope.Return);
        Assert.Equal("QQ314159+2Bx", envelope.EnvelopeId);
        const RecipientFlags Here = RecipientFlags.Local | RecipientFlags.Mailbox;
        Assert.Equal(new EnvelopeRecipient("b@local.test", Here, DsnNotify.Success | DsnNotify.Failure, "rfc822;b+40local.test"), envelope.Recipients[0]);
        Assert.Equal(new EnvelopeRecipient("c@local.test", Here, DsnNotify.Never), envelope.Recipients[1]);
        Assert.Equal(new EnvelopeRecipient("d@local.test", Here), envelope.Recipients[2]);
    }

    [Fact]
    public async Task RetFullIsKept()
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<a@local.test> RET=full"));
        await s.CommandAsync("RCPT TO:<b@local.test>");
        await s.CommandAsync("DATA");
        await s.CommandAsync("x\r\n.");
        Envelope envelope = Assert.Single(_server.Stored()).Envelope;
        Assert.Equal(DsnReturn.Full, envelope.Return);
        Assert.Null(envelope.EnvelopeId);
    }

    [Theory]
    [InlineData("MAIL FROM:<a@local.test> RET=BODY")]
    [InlineData("MAIL FROM:<a@local.test> ENVID=has=equals")]
    [InlineData("MAIL FROM:<a@local.test> ENVID=bad+zz")]
    public async Task MalformedMailDsnParametersAreRefused(string command)
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        Assert.Matches("^5(01|55) 5.5.4 ", await s.CommandAsync(command));
    }

    [Theory]
    [InlineData("NOTIFY=NEVER,FAILURE")]
    [InlineData("NOTIFY=SUCCESS,SUCCESS")]
    [InlineData("NOTIFY=SOMETIMES")]
    [InlineData("NOTIFY=")]
    [InlineData("ORCPT=b@local.test")]
    [InlineData("ORCPT=;b@local.test")]
    [InlineData("ORCPT=rfc822;b=x")]
    public async Task MalformedRcptDsnParametersAreRefused(string parameter)
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        await s.CommandAsync("MAIL FROM:<a@local.test>");
        string? reply = await s.CommandAsync("RCPT TO:<b@local.test> " + parameter);
        Assert.Matches("^5(01|55) 5.5.4 ", reply);
    }

    [Fact]
    public async Task RepeatedDsnParametersAreRefused()
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        Assert.StartsWith("555 5.5.4 ", await s.CommandAsync("MAIL FROM:<a@local.test> RET=FULL RET=HDRS"));
        await s.CommandAsync("MAIL FROM:<a@local.test>");
        Assert.StartsWith("555 5.5.4 ", await s.CommandAsync("RCPT TO:<b@local.test> NOTIFY=NEVER NOTIFY=NEVER"));
    }

    [Fact]
    public void VersionOneEnvelopesStillDecode()
    {
        // u8 1, flags 0, received 0, no ip, HELO "h", sender "s", size 7, one recipient (Local, "r").
        byte[] v1 = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, (byte)'h', 1, 0, (byte)'s', 7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, (byte)'r'];
        Assert.True(Envelope.TryRead(v1, out Envelope? envelope));
        Assert.Equal("s", envelope!.Sender);
        Assert.Equal(new EnvelopeRecipient("r", RecipientFlags.Local), Assert.Single(envelope.Recipients));
        Assert.Null(envelope.EnvelopeId);
    }
}
