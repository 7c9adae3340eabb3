namespace AbilisFast.Server.Tests.Submission;

/// <summary>
/// The header handling of sendmail and the pickup: recipients from To/Cc/Bcc (several per field,
/// groups, display names with commas, comments, routes; Resent-* when resending), Bcc removed
/// with its folded lines, and Date, Message-ID and From added only when missing.
/// </summary>
public sealed class MessageHeadersTests
{
    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Theory]
    [InlineData("a@x.test", new[] { "a@x.test" })]
    [InlineData("a@x.test, b@x.test,c@x.test", new[] { "a@x.test", "b@x.test", "c@x.test" })]
    [InlineData("\"Doe, John\" <j@x.test>, Jane <jane@x.test>", new[] { "j@x.test", "jane@x.test" })]
    [InlineData("j@x.test (John, the boss), k@x.test", new[] { "j@x.test", "k@x.test" })]
    [InlineData("team: a@x.test, B <b@x.test>;, c@x.test", new[] { "a@x.test", "b@x.test", "c@x.test" })]
    [InlineData("undisclosed-recipients:;", new string[0])]
    [InlineData("<@relay.test,@r2.test:j@x.test>", new[] { "j@x.test" })]
    [InlineData("\"a,b\"@x.test", new[] { "\"a,b\"@x.test" })]
    [InlineData("u@[IPv6:::1], v@[127.0.0.1]", new[] { "u@[IPv6:::1]", "v@[127.0.0.1]" })]
    [InlineData("Operations <ops>", new[] { "ops" })]
    [InlineData("", new string[0])]
    [InlineData("J\u00f6rg <j\u00f6rg@x.test>", new[] { "j\u00f6rg@x.test" })]
    public void AddressLists(string value, string[] expected) => Assert.Equal(expected, AddressList.Parse(value));

    [Fact]
    public void MinusTTakesToCcAndBccWithFoldedFields()
    {
        byte[] message = Bytes("From: me@x.test\r\nTo: a@x.test,\r\n  b@x.test\r\nCC: team: c@x.test;\r\nSubject: To: not@x.test\r\nbcc: d@x.test\r\nX-To: no@x.test\r\n\r\nTo: body@x.test\r\n");
        Assert.Equal(["a@x.test", "b@x.test", "c@x.test", "d@x.test"], MessageHeaders.Recipients(MessageHeaders.Fields(message)));
    }

    [Fact]
    public void MinusTTakesOnlyTheResentFieldsOfAResentMessage()
    {
        byte[] message = Bytes("Resent-To: new@x.test\nResent-Bcc: hidden@x.test\nTo: old@x.test\nCc: old2@x.test\n\nbody\n");
        Assert.Equal(["new@x.test", "hidden@x.test"], MessageHeaders.Recipients(MessageHeaders.Fields(message)));
    }

    [Fact]
    public void BccAndResentBccAreRemovedWithTheirFoldedLines()
    {
        byte[] message = Bytes("To: a@x.test\nBcc: secret@x.test,\n\tsecret2@x.test\nSubject: s\nResent-Bcc: r@x.test\n\nBcc: body text stays\n");
        Assert.Equal("To: a@x.test\nSubject: s\n\nBcc: body text stays\n", Encoding.UTF8.GetString(MessageHeaders.WithoutBcc(message)));
    }

    [Theory]
    [InlineData("Subject: x\n\nbody\n", 11, true)]
    [InlineData("Subject: x\n folded\nTo: a\n\nbody\n", 25, true)]
    [InlineData("just a body line\nSubject: x\n", 0, false)]
    [InlineData(" folded first\n", 0, false)]
    [InlineData("Subject: x\nnot a header\n", 11, false)]
    [InlineData("Subject: x\n", 11, false)]
    [InlineData("\nbody\n", 0, true)]
    public void WhereTheHeaderSectionEnds(string message, int end, bool separator)
    {
        Assert.Equal(end, MessageHeaders.End(Bytes(message), out bool hasSeparator));
        Assert.Equal(separator, hasSeparator);
    }

    private static readonly DateTimeOffset Now = new(2026, 12, 5, 22, 31, 0, TimeSpan.Zero);

    private static string Complete(string message, string sender = "cron@local.test", string? fullName = null) =>
        Encoding.UTF8.GetString(PickupDirectory.Complete(Bytes(message), sender, fullName, "mx.local.test", Now));

    [Fact]
    public void DateMessageIdAndFromAreAddedAtTheEndOfTheHeaderWhenMissing()
    {
        string done = Complete("Subject: x\r\n\r\nbody\r\n", fullName: "Cron Daemon");
        Assert.Matches(
            "^Subject: x\r\nFrom: Cron Daemon <cron@local.test>\r\nDate: Sat, 05 Dec 2026 22:31:00 \\+0000\r\nMessage-ID: <20261205223100\\.[0-9a-f]{32}@mx\\.local\\.test>\r\n\r\nbody\r\n$",
            done);
        Assert.NotEqual(done, Complete("Subject: x\r\n\r\nbody\r\n", fullName: "Cron Daemon")); // a new Message-ID each time
    }

    [Fact]
    public void FieldsThatArePresentAreKept()
    {
        const string whole = "From: Me <me@x.test>\r\ndate: Fri, 04 Dec 2026 10:00:00 +0100\r\nMessage-Id: <a@x.test>\r\n\r\nbody\r\n";
        Assert.Equal(whole, Complete(whole));
    }

    [Fact]
    public void AMessageWithoutAHeaderGetsOneAndItsTextStaysBody()
    {
        string done = Complete("hello: not a field? yes it is\nhello world\n", sender: "", fullName: "X");
        Assert.StartsWith("hello: not a field? yes it is\nDate: ", done);
        done = Complete("hello world\n", sender: "a@x.test");
        Assert.Matches("^From: a@x.test\r\nDate: [^\r]+\r\nMessage-ID: <[^\r]+>\r\n\r\nhello world\n$", done);
    }

    [Theory]
    [InlineData("Cron Daemon", "From: Cron Daemon <c@x.test>")]
    [InlineData("Doe, John", "From: \"Doe, John\" <c@x.test>")]
    [InlineData("Say \"hi\"", "From: \"Say \\\"hi\\\"\" <c@x.test>")]
    [InlineData("J\u00f6rg", "From: =?UTF-8?B?SsO2cmc=?= <c@x.test>")]
    public void TheFullNameOfMinusF(string fullName, string expected) =>
        Assert.StartsWith(expected + "\r\n", Complete("\n", sender: "c@x.test", fullName: fullName));

    [Fact]
    public void TheNullSenderGetsNoFromField() => Assert.DoesNotContain("From:", Complete("Subject: bounce\n\nx\n", sender: ""));
}
