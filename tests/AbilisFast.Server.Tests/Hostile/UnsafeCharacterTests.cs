namespace AbilisFast.Server.Tests.Hostile;

/// <summary>
/// C1 controls (U+0085 NEL, U+009B CSI), the Unicode line and paragraph separators and the bidi
/// controls are valid UTF-8, so the session's old check (bytes up to 0x20 and 0x7F) let them through
/// into the Received: field, the session log and the console. They are refused in HELO/EHLO and in
/// addresses, and escaped as '?' wherever client text is shown; the Received: field of a message
/// sent without SMTPUTF8 is ASCII.
/// </summary>
public sealed class UnsafeCharacterTests : IDisposable
{
    private readonly TestServerContext _server = new("LOCAL-DOMAIN:local.test");

    public void Dispose() => _server.Dispose();

    public static TheoryData<string> Unsafe() => new() { "\u0085", "\u009B", "\u0080", "\u2028", "\u2029", "\u202E", "\u2066" };

    [Theory]
    [MemberData(nameof(Unsafe))]
    public async Task HeloAndEhloWithThemAreRefused(string character)
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        Assert.Equal("501 5.5.4 Syntax: EHLO hostname", await s.CommandAsync($"EHLO bad{character}name.test"));
        Assert.Equal("501 5.5.4 Syntax: HELO hostname", await s.CommandAsync($"HELO bad{character}name.test"));

        // An internationalised name without them is fine.
        Assert.StartsWith("250-", await s.CommandAsync("EHLO b\u00fccher.test"));
    }

    [Theory]
    [MemberData(nameof(Unsafe))]
    public async Task AddressesWithThemAreRefused(string character)
    {
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        Assert.StartsWith("250-", await s.CommandAsync("EHLO client.test"));
        Assert.Equal("501 5.1.7 Bad sender address syntax", await s.CommandAsync($"MAIL FROM:<a{character}b@client.test> SMTPUTF8"));
        Assert.Equal("501 5.1.7 Bad sender address syntax", await s.CommandAsync($"MAIL FROM:<ab@client{character}x.test> SMTPUTF8"));
        Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<j\u00f6rg@client.test> SMTPUTF8"));
        Assert.Equal("501 5.1.3 Bad recipient address syntax", await s.CommandAsync($"RCPT TO:<u{character}@local.test>"));
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<\u00fcser@local.test>"));
    }

    [Fact]
    public async Task TheTraceShowsThemAsQuestionMarks()
    {
        _server.Context.Log.Verbose = true;
        await using SessionHarness s = await SessionHarness.StartAsync(_server.Context);
        Assert.StartsWith("500 ", await s.CommandAsync("XYZZY \u009b31mred\u0085next\u2028line\u202Eevil\u007Fdel"));
        string log = _server.Context.Log.SnapshotText();
        Assert.Contains("<- XYZZY ??31mred??next???line???evil?del", log);
        foreach (char c in "\u009b\u0085\u2028\u202E\u007F")
        {
            Assert.DoesNotContain(c.ToString(), log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheReceivedFieldIsAsciiUnlessTheMessageIsSmtpUtf8()
    {
        await using (SessionHarness s = await SessionHarness.StartAsync(_server.Context))
        {
            Assert.StartsWith("250-", await s.CommandAsync("EHLO b\u00fccher.test"));
            await s.SendQueuedAsync("a@client.test", "u@local.test", "Subject: plain\r\n\r\nhello\r\n");
            await s.SendQueuedAsync("<a@client.test> SMTPUTF8", "u@local.test", "Subject: utf8\r\n\r\nhello\r\n");
        }

        List<StoredMessage> stored = _server.Stored();
        Assert.Equal(2, stored.Count);
        StoredMessage plain = stored.Single(m => m.Body.Contains("Subject: plain", StringComparison.Ordinal));
        StoredMessage utf8 = stored.Single(m => m.Body.Contains("Subject: utf8", StringComparison.Ordinal));
        Assert.StartsWith("Received: from xn--bcher-kva.test ([127.0.0.1])", plain.Body);
        Assert.True(plain.Body[..plain.Body.IndexOf("Subject:", StringComparison.Ordinal)].All(char.IsAscii), plain.Body);
        Assert.StartsWith("Received: from b\u00fccher.test ([127.0.0.1])", utf8.Body);

        // The envelope keeps the name as the client gave it.
        Assert.All(stored, m => Assert.Equal("b\u00fccher.test", m.Envelope.Helo));
    }

    [Fact]
    public async Task AnAuthNameWithThemIsLoggedAsInvalid()
    {
        await using TlsServer server = await TlsServer.StartAsync("AUTH-PLAINTEXT:YES");
        await using SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(server.Port);
        Assert.StartsWith("535 ", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain("bo\u009b31mb\u2028", "whatever")));
        string log = server.Context.Log.SnapshotText();
        Assert.Contains("failed to authenticate as 'bo?31mb?' (not a valid user name)", log);
        Assert.DoesNotContain("\u009b", log, StringComparison.Ordinal);
        Assert.DoesNotContain("\u2028", log, StringComparison.Ordinal);
    }
}
