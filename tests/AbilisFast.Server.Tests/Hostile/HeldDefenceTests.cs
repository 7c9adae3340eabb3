namespace AbilisFast.Server.Tests.Hostile;

/// <summary>
/// Defences a hostile probe found holding, kept as regression tests where no other test held them
/// already (docs/testing.md lists which test holds which): relay tricks, traversal through local
/// parts, absurd BDAT sizes, ten thousand recipients, thousands of idle connections from one address.
/// </summary>
public sealed class HeldDefenceTests : IDisposable
{
    private readonly TestServerContext _server = new("LOCAL-DOMAIN:local.test", "STORE-MB:YES", "MAX-RCPT:100", "MSG-MAXSIZE:1024");

    public void Dispose() => _server.Dispose();

    /// <summary>
    /// No open relay: every trick that could make a local address reach another domain is refused,
    /// from a client outside RELAY-NET, and nothing is counted as relayed. Source routes hidden in the
    /// local part (%, !, a quoted @) are refused as such...
    /// </summary>
    [Theory]
    [InlineData("<b%elsewhere.test@local.test>")]
    [InlineData("<b%elsewhere.test%local.test@local.test>")]
    [InlineData("<elsewhere.test!b@local.test>")]
    [InlineData("<\"b@elsewhere.test\"@local.test>")]
    [InlineData("<\"b%elsewhere.test\"@local.test>")]
    [InlineData("<\"elsewhere.test!b\"@local.test>")]
    public async Task SourceRoutesInTheLocalPartAreRefused(string recipient) =>
        Assert.StartsWith("550 5.7.1 ", await RcptFromOutsideRelayNetAsync(recipient));

    /// <summary>... domains that are not local (whatever their spelling, literals and source routes included) are relay access denied ...</summary>
    [Theory]
    [InlineData("<@local.test:b@elsewhere.test>")]
    [InlineData("<@local.test,@local.test:b@elsewhere.test>")]
    [InlineData("<b@[192.0.2.1]>")]
    [InlineData("<b@[127.0.0.1]>")]
    [InlineData("<b@[IPv6:::1]>")]
    [InlineData("<b@127.0.0.1>")]
    [InlineData("<b@local.test.elsewhere.test>")]
    [InlineData("<b@xn--lcal-test-8za.elsewhere.test>")]
    [InlineData("<b@elsewhere.test> NOTIFY=NEVER ORCPT=rfc822;b@local.test")]
    public async Task OtherDomainsAreRelayAccessDenied(string recipient) =>
        Assert.StartsWith("554 5.7.1 ", await RcptFromOutsideRelayNetAsync(recipient));

    /// <summary>... and malformed addresses (two @, a bad domain) are bad address syntax.</summary>
    [Theory]
    [InlineData("<b@elsewhere.test@local.test>")]
    [InlineData("<b@elsewhere.test.>")]
    [InlineData("<b@local.test.>")]
    [InlineData("<b@.local.test>")]
    [InlineData("<b@local..test>")]
    [InlineData("<b@local.test:25>")]
    [InlineData("<b@-local.test>")]
    [InlineData("<b@local.test\\@elsewhere.test>")]
    public async Task MalformedAddressesAreBadSyntax(string recipient) =>
        Assert.StartsWith("501 5.1.3 ", await RcptFromOutsideRelayNetAsync(recipient));

    /// <summary>EHLO and MAIL from 192.0.2.77 (outside RELAY-NET), then RCPT TO <paramref name="recipient"/>: its reply. Checks that nothing was relayed.</summary>
    private async Task<string?> RcptFromOutsideRelayNetAsync(string recipient)
    {
        await using SessionHarness s = await SessionHarness.StartTransactionAsync(_server.Context, [], remote: "192.0.2.77");
        string? reply = await s.CommandAsync("RCPT TO:" + recipient);
        Assert.Equal(0, _server.Context.Counters.Get(AbilisFast.Server.Diagnostics.SmtpCounter.RelaySucc, AbilisFast.Server.Diagnostics.Direction.In));
        return reply;
    }

    /// <summary>BDAT sizes no number can hold: 501 and the session closes (the stream cannot be resynchronised); nothing is stored.</summary>
    [Theory]
    [InlineData("BDAT 99999999999999999999 LAST")]
    [InlineData("BDAT 9223372036854775808")]
    [InlineData("BDAT -1 LAST")]
    [InlineData("BDAT 0x10 LAST")]
    [InlineData("BDAT 1e9 LAST")]
    public async Task BdatSizesThatNoNumberHoldsAreRefusedAndTheSessionCloses(string command)
    {
        await using SessionHarness s = await SessionHarness.StartTransactionAsync(_server.Context, ["u@local.test"]);
        Assert.Equal("501 5.5.4 Syntax: BDAT chunk-size [LAST]", await s.CommandAsync(command));
        Assert.Null(await s.ReadReplyAsync());
        Assert.Empty(_server.Stored());
    }

    /// <summary>
    /// The largest size a number holds: the chunk is read and thrown away as it comes (over
    /// MSG-MAXSIZE, nothing buffered), and a client that stops sending is ended by the deadlines.
    /// </summary>
    [Fact]
    public async Task AnEnormousBdatChunkIsDrainedNotStored()
    {
        await using SessionHarness s = await SessionHarness.StartTransactionAsync(_server.Context, ["u@local.test"]);
        await s.SendAsync("BDAT 9223372036854775807 LAST\r\n");
        byte[] block = new byte[1 << 20];
        block.AsSpan().Fill((byte)'x');
        // The in-memory pipe pushes back when the server stops reading: all 16 MiB going in means it drains them.
        for (int i = 0; i < 16; i++)
        {
            await s.SendAsync(block).WaitAsync(TimeSpan.FromSeconds(60));
        }

        // Far more than MSG-MAXSIZE (1 MiB): nothing of it is a message.
        Assert.Empty(_server.Stored());
    }

    [Fact]
    public async Task TenThousandRecipientsStopAtMaxRcptAndTheSessionGoesOn()
    {
        await using SessionHarness s = await SessionHarness.StartTransactionAsync(_server.Context, []);
        var pipelined = new StringBuilder();
        for (int i = 0; i < 10_000; i++)
        {
            pipelined.Append(CultureInfo.InvariantCulture, $"RCPT TO:<u{i}@local.test>\r\n");
        }

        await s.SendAsync(pipelined.ToString());
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < 10_000; i++)
        {
            string? reply = await s.ReadReplyAsync();
            accepted += reply == "250 2.1.5 Ok" ? 1 : 0;
            refused += reply!.StartsWith("452 4.5.3", StringComparison.Ordinal) ? 1 : 0;
        }

        Assert.Equal((100, 9_900), (accepted, refused));
        Assert.StartsWith("354", await s.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: queued as", await s.CommandAsync("hello\r\n."));
        Assert.Equal(100, Assert.Single(_server.Stored()).Envelope.Recipients.Count);
    }
}
