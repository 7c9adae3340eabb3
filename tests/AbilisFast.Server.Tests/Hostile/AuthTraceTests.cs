namespace AbilisFast.Server.Tests.Hostile;

/// <summary>
/// The verbose trace (<c>debug res:smtp lsn:1</c>, read back with <c>lsn:3</c>) never holds AUTH
/// credentials, whatever separates the words of the AUTH line: with a TAB the line used to be traced
/// whole, the base64 of the real password in it.
/// </summary>
public sealed class AuthTraceTests
{
    public static TheoryData<string> Variants() => new()
    {
        "AUTH PLAIN {0}",
        "AUTH PLAIN\t{0}",
        "AUTH\tPLAIN {0}",
        "AUTH\tPLAIN\t{0}",
        "AUTH  PLAIN {0}",
        "AUTH PLAIN  {0}",
        "AUTH \t PLAIN \t {0}",
        "auth plain {0}",
        "Auth\tPlain {0}",
        " AUTH PLAIN {0}",
        "\tAUTH PLAIN {0}",
        "AUTH {0}",
        "AUTHPLAIN {0}",
        "AUTH PLAIN={0}",
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task TheBase64OfTheRealPasswordNeverReachesTheTrace(string form)
    {
        await using TlsServer server = await TlsServer.StartAsync("AUTH-PLAINTEXT:YES");
        server.Context.Log.Verbose = true;
        await using SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(server.Port);
        string plain = TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword);
        string? reply = await client.CommandAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, form, plain));
        Assert.NotNull(reply);

        // Whatever the server made of it, the exchange goes on with a LOGIN whose lines are hidden too.
        if (reply.StartsWith("334", StringComparison.Ordinal))
        {
            await client.CommandAsync("*");
        }

        if (!reply.StartsWith("235", StringComparison.Ordinal))
        {
            Assert.Equal("334 VXNlcm5hbWU6", await client.CommandAsync("AUTH LOGIN"));
            Assert.Equal("334 UGFzc3dvcmQ6", await client.CommandAsync(TlsServer.Base64(TlsServer.MailUser)));
            Assert.Equal("235 2.7.0 Authentication successful", await client.CommandAsync(TlsServer.Base64(TlsServer.MailPassword)));
        }

        Assert.Equal("221 2.0.0 Bye", await client.CommandAsync("QUIT"));
        string log = server.Context.Log.SnapshotText();
        Assert.Contains("<- AUTH", log, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(plain, log);
        Assert.DoesNotContain(plain[..12], log);
        Assert.DoesNotContain(TlsServer.Base64(TlsServer.MailPassword), log);
        Assert.DoesNotContain(TlsServer.MailPassword, log);
    }

    [Fact]
    public async Task TheMechanismStaysVisibleWhenItIsPlainOrLogin()
    {
        await using TlsServer server = await TlsServer.StartAsync("AUTH-PLAINTEXT:YES");
        server.Context.Log.Verbose = true;
        await using SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(server.Port);
        Assert.Equal("334 ", await client.CommandAsync("AUTH PLAIN"));
        Assert.StartsWith("501", await client.CommandAsync("*"));
        Assert.StartsWith("500", await client.CommandAsync("AUTH\tPLAIN " + TlsServer.Plain(TlsServer.MailUser, TlsServer.MailPassword)));
        string log = server.Context.Log.SnapshotText();
        Assert.Matches(new System.Text.RegularExpressions.Regex(@"<- AUTH PLAIN\r?$", System.Text.RegularExpressions.RegexOptions.Multiline), log);
        Assert.Contains("<- AUTH [initial response not logged]", log);
    }
}
