namespace AbilisFast.Server.Tests.Recipients;

/// <summary>RCPT TO for local domains, over a real session with the recipient table a server has.</summary>
public sealed class RcptTests : IDisposable
{
    private const string Aliases = """
        team: bob, carol, boss@far.test
        sales: team
        bob2: bob
        @c.test: carol
        """;

    private readonly List<TestServerContext> _servers = [];

    public void Dispose()
    {
        foreach (TestServerContext server in _servers)
        {
            server.Dispose();
        }
    }

    private static void Prepare(string workDir)
    {
        UserStore users = UserStore.Load(workDir);
        users.Set("bob", UserRights.Mail, "pw");
        users.Set("carol", UserRights.Mail, "pw");
        users.Set("boss", UserRights.Admin, "pw");
        File.WriteAllText(AliasFile.PathIn(workDir), Aliases);
    }

    private TestServerContext Server(params string[] parameters)
    {
        TestServerContext server = TestServerContext.WithRecipients(Prepare, ["LOCAL-DOMAIN:a.test,b.test,c.test,bücher.test", "RELAY-NET:10/8", .. parameters]);
        _servers.Add(server);
        return server;
    }

    private static async Task<SessionHarness> TransactionAsync(TestServerContext server, string remote = "127.0.0.1", string from = "alice@client.test")
    {
        SessionHarness s = await SessionHarness.StartAsync(server.Context, remote);
        Assert.StartsWith("250", await s.CommandAsync("EHLO client.test"));
        Assert.Equal("250 2.1.0 Ok", await s.CommandAsync($"MAIL FROM:<{from}> SMTPUTF8"));
        return s;
    }

    private static async Task<Envelope> DataAsync(TestServerContext server, SessionHarness s)
    {
        Assert.StartsWith("354", await s.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: queued as ", await s.CommandAsync("Subject: t\r\n\r\nx\r\n."));
        return Assert.Single(server.Stored()).Envelope;
    }

    [Fact]
    public async Task AnUnknownLocalNameIs550AtRcptCreatesNothingAndIsCountedAndLogged()
    {
        TestServerContext server = Server();
        await using SessionHarness s = await TransactionAsync(server, "10.9.8.7");

        Assert.Equal("550 5.1.1 Recipient address rejected: no such user here", await s.CommandAsync("RCPT TO:<nobody@a.test>"));
        Assert.Equal("550 5.1.1 Recipient address rejected: no such user here", await s.CommandAsync("RCPT TO:<\"a/b\"@b.test>"));
        Assert.Equal("550 5.1.1 Recipient address rejected: no such user here", await s.CommandAsync("RCPT TO:<viewer@a.test>"));
        Assert.Equal("550 5.1.1 Recipient address rejected: no such user here", await s.CommandAsync("RCPT TO:<boss@a.test>"));
        Assert.Equal("503 5.5.1 Error: need RCPT command", await s.CommandAsync("DATA"));

        Assert.Equal(4, server.Context.RecipientCounters.UnknownLocal);
        Assert.False(Directory.Exists(server.MailboxDir) && Directory.EnumerateDirectories(server.MailboxDir).Any());
        string log = server.Log.SnapshotText();
        Assert.Contains("10.9.8.7 <alice@client.test>: RCPT TO:<nobody@a.test> refused: 550 5.1.1 Recipient address rejected: no such user here", log);
        Assert.Contains("10.9.8.7 <alice@client.test>: RCPT TO:<\"a/b\"@b.test> refused: 550 5.1.1", log);
    }

    [Fact]
    public async Task VrfyDoesNotTellKnownFromUnknownNames()
    {
        TestServerContext server = Server();
        await using SessionHarness s = await SessionHarness.StartAsync(server.Context);
        string? known = await s.CommandAsync("VRFY bob@a.test");
        Assert.StartsWith("252 ", known);
        Assert.Equal(known, await s.CommandAsync("VRFY nobody@a.test"));
        Assert.Equal(known, await s.CommandAsync("VRFY team"));
        Assert.Equal("502 5.5.1 Error: command not implemented", await s.CommandAsync("EXPN team"));
    }

    [Fact]
    public async Task UsersSubaddressesAndSpellingsAreStoredAsTheirMailboxWithTheOriginalInOrcpt()
    {
        TestServerContext server = Server();
        await using SessionHarness s = await TransactionAsync(server);
        foreach (string rcpt in (string[])["bob@a.test", "Bob@A.TEST", "BOB+alerts@a.test", "\"bob\"@b.test", "bob@xn--bcher-kva.test", "bob@BÜCHER.test"])
        {
            Assert.Equal("250 2.1.5 Ok", await s.CommandAsync($"RCPT TO:<{rcpt}>"));
        }

        Envelope envelope = await DataAsync(server, s);
        const RecipientFlags Here = RecipientFlags.Local | RecipientFlags.Mailbox;
        Assert.Equal(
            [
                new("bob@a.test", Here),
                new("bob@a.test", Here, DsnNotify.None, "rfc822;Bob@A.TEST"),
                new("bob@a.test", Here, DsnNotify.None, "rfc822;BOB+2Balerts@a.test"),
                new("bob@b.test", Here, DsnNotify.None, "rfc822;\"bob\"@b.test"),
                new("bob@xn--bcher-kva.test", Here),
                new EnvelopeRecipient("bob@xn--bcher-kva.test", Here, DsnNotify.None, null),
            ],
            envelope.Recipients);
    }

    [Fact]
    public async Task AliasesCatchAllsAndTheBarePostmasterExpandToTheirTargets()
    {
        TestServerContext server = Server();
        await using SessionHarness s = await TransactionAsync(server);
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<Sales@a.test> NOTIFY=FAILURE"));
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<whoever@c.test>"));
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<postmaster>"));
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<abuse@b.test> ORCPT=rfc822;abuse+40b.test"));

        Envelope envelope = await DataAsync(server, s);
        const RecipientFlags Here = RecipientFlags.Local | RecipientFlags.Mailbox;
        Assert.Equal(
            [
                new("bob@a.test", Here, DsnNotify.Failure, "rfc822;Sales@a.test"),
                new("carol@a.test", Here, DsnNotify.Failure, "rfc822;Sales@a.test"),
                new("boss@far.test", RecipientFlags.Relay, DsnNotify.Failure, "rfc822;Sales@a.test"),
                new("carol@c.test", Here, DsnNotify.None, "rfc822;whoever@c.test"),
                new("boss", Here, DsnNotify.None, "rfc822;postmaster"),
                new("boss@b.test", Here, DsnNotify.None, "rfc822;abuse+40b.test"),
            ],
            envelope.Recipients);
    }

    [Fact]
    public async Task MaxRcptCountsRcptCommandsNotTheTargetsOfAnAlias()
    {
        TestServerContext server = Server("MAX-RCPT:2");
        await using SessionHarness s = await TransactionAsync(server);
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<team@a.test>"));
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<sales@a.test>"));
        Assert.Equal("452 4.5.3 Error: too many recipients", await s.CommandAsync("RCPT TO:<bob@a.test>"));
        Assert.Equal(6, (await DataAsync(server, s)).Recipients.Count);
    }

    [Fact]
    public async Task RelayedRecipientsKeepTheirSpelling()
    {
        TestServerContext server = Server();
        await using SessionHarness s = await TransactionAsync(server, "10.1.1.1");
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<Bob@Far.TEST>"));
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<BOB@far.test>"));
        Envelope envelope = await DataAsync(server, s);
        Assert.Equal([new("Bob@Far.TEST", RecipientFlags.Relay), new EnvelopeRecipient("BOB@far.test", RecipientFlags.Relay)], envelope.Recipients);
    }

    [Fact]
    public async Task AUserAddedWhileTheServerRunsIsARecipientAtOnce()
    {
        TestServerContext server = Server();
        await using SessionHarness s = await TransactionAsync(server);
        Assert.Equal("550 5.1.1 Recipient address rejected: no such user here", await s.CommandAsync("RCPT TO:<dave@a.test>"));
        UserStore.Load(server.WorkDir).Set("dave", UserRights.Mail, "pw");
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<dave@a.test>"));
        UserStore.Load(server.WorkDir).Delete("dave");
        server.Recipients!.Refresh();
        Assert.Equal("550 5.1.1 Recipient address rejected: no such user here", await s.CommandAsync("RCPT TO:<dave+x@a.test>"));
    }

    [Fact]
    public async Task WithStoreMbNoLocalNamesGoToServerAsWrittenAndUnchecked()
    {
        TestServerContext server = Server("STORE-MB:NO", "SERVER:192.0.2.1");
        await using SessionHarness s = await TransactionAsync(server);
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<Nobody+x@A.test>"));
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<postmaster>"));
        Envelope envelope = await DataAsync(server, s);
        Assert.Equal(
            [new("Nobody+x@A.test", RecipientFlags.Local), new EnvelopeRecipient("boss", RecipientFlags.Local | RecipientFlags.Mailbox, DsnNotify.None, "rfc822;postmaster")],
            envelope.Recipients);
    }

    [Fact]
    public async Task LocalRcptAnyAcceptsEveryNameIntoAFolderOfItsOwn()
    {
        TestServerContext server = Server("LOCAL-RCPT:ANY");
        await using SessionHarness s = await TransactionAsync(server);
        foreach (string rcpt in (string[])["\"a/b\"@a.test", "a_b@a.test", "Zed+tag@a.test", "bob@a.test"])
        {
            Assert.Equal("250 2.1.5 Ok", await s.CommandAsync($"RCPT TO:<{rcpt}>"));
        }

        Envelope envelope = await DataAsync(server, s);
        Assert.Equal(["a%2Fb@a.test", "a_b@a.test", "zed@a.test", "bob@a.test"], envelope.Recipients.Select(r => r.Address));
        Assert.Equal(0, server.Context.RecipientCounters.UnknownLocal);
    }

    [Fact]
    public async Task TheSessionLogNamesTheClientTheSenderEveryRecipientAndEachRefusal()
    {
        TestServerContext server = Server();
        await using SessionHarness s = await TransactionAsync(server, "192.0.2.4");
        Assert.Equal("250 2.1.5 Ok", await s.CommandAsync("RCPT TO:<team@a.test>"));
        Assert.Equal("550 5.1.1 Recipient address rejected: no such user here", await s.CommandAsync("RCPT TO:<ghost@a.test>"));
        Assert.Equal("554 5.7.1 Error: relay access denied", await s.CommandAsync("RCPT TO:<x@elsewhere.test>"));
        await DataAsync(server, s);

        string id = Assert.Single(server.Stored()).Id.ToString("X8", System.Globalization.CultureInfo.InvariantCulture);
        string log = server.Log.SnapshotText();
        Assert.Contains($"Receiving message: {id}", log);
        Assert.Contains($"Message {id} from 192.0.2.4 <alice@client.test> to <bob@a.test> <carol@a.test> <boss@far.test>", log);
        Assert.Contains("192.0.2.4 <alice@client.test>: RCPT TO:<ghost@a.test> refused: 550 5.1.1 Recipient address rejected: no such user here", log);
        Assert.Contains("192.0.2.4 <alice@client.test>: RCPT TO:<x@elsewhere.test> refused: 554 5.7.1 Error: relay access denied", log);
    }

    [Fact]
    public async Task ManyRecipientsContinueTheMessageRowOnFurtherRows()
    {
        TestServerContext server = Server("LOCAL-RCPT:ANY");
        await using SessionHarness s = await TransactionAsync(server);
        for (int i = 0; i < 30; i++)
        {
            Assert.Equal("250 2.1.5 Ok", await s.CommandAsync($"RCPT TO:<recipient-number-{i}@a.test>"));
        }

        await DataAsync(server, s);
        string id = Assert.Single(server.Stored()).Id.ToString("X8", System.Globalization.CultureInfo.InvariantCulture);
        string[] rows = [.. server.Log.SnapshotText().Split('\n').Where(l => l.Contains($"Message {id} ", StringComparison.Ordinal))];
        Assert.True(rows.Length > 1, string.Join('\n', rows));
        Assert.All(Enumerable.Range(0, 30), i => Assert.Single(rows, r => r.Contains($"<recipient-number-{i}@a.test>", StringComparison.Ordinal)));
        Assert.All(rows, r => Assert.True(r.TrimEnd('\r').Length <= AbilisFast.Server.Diagnostics.SessionLog.MaxLineLength));
    }
}
