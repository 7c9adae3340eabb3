namespace AbilisFast.Server.Tests.Recipients;

public sealed class RecipientTableTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("abilisfast-rcpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private UserStore Users(params (string Name, UserRights Rights)[] users)
    {
        // Hashing is slow and irrelevant here: write the file by hand with a valid-looking entry.
        string salt = Convert.ToBase64String(new byte[16]);
        string hash = Convert.ToBase64String(new byte[32]);
        File.WriteAllLines(UserStore.PathIn(_dir), users.Select(u => $"{u.Name}:{UserStore.RightsName(u.Rights)}:pbkdf2-sha256:100000:{salt}:{hash}"));
        return UserStore.Load(_dir);
    }

    private static SmtpSettings Settings(params string[] more) =>
        TestSettings.Create(["LOCAL-DOMAIN:a.test,b.test,bücher.test", "STORE-MB:YES", .. more]);

    private static RecipientTable Build(UserStore users, string aliases, SmtpSettings? settings = null) =>
        RecipientTable.Build(users, AliasFile.Parse("/w/aliases", aliases.Split('\n')), settings ?? Settings());

    private static string Find(RecipientTable table, string local, string? domain = "a.test", string delimiters = "+") =>
        table.Find(local, domain, delimiters) is { } targets ? string.Join(", ", targets.Select(t => t.ToString())) : "unknown";

    [Fact]
    public void UsersWithTheMailRightAreRecipientsInAnyCaseAndConsoleUsersAreNot()
    {
        RecipientTable table = Build(Users(("Bob", UserRights.Mail), ("viewer", UserRights.User), ("boss", UserRights.Admin)), "");

        Assert.Equal("mailbox bob", Find(table, "bob"));
        Assert.Equal("mailbox bob", Find(table, "BOB"));
        Assert.Equal("unknown", Find(table, "viewer"));
        Assert.Equal("unknown", Find(table, "boss"));
        Assert.Equal("unknown", Find(table, "carol"));
        Assert.Equal(1, table.UserCount);
    }

    [Fact]
    public void PostmasterAbuseAndRootGoToTheFirstAdminUnlessAliased()
    {
        RecipientTable table = Build(Users(("bob", UserRights.Mail), ("zed", UserRights.Super), ("anna", UserRights.Admin), ("viewer", UserRights.User)),
            "abuse: bob");

        Assert.Equal("mailbox zed", Find(table, "postmaster", null));
        Assert.Equal("mailbox zed", Find(table, "Root"));
        Assert.Equal("mailbox bob", Find(table, "abuse"));
        Assert.Equal("zed", table.PostmasterFolder);

        RecipientTable nobody = Build(Users(("bob", UserRights.Mail)), "");
        Assert.Equal("mailbox postmaster", Find(nobody, "postmaster", null));
    }

    [Fact]
    public void AliasesExpandThroughOtherAliasesToMailboxesAndAddresses()
    {
        RecipientTable table = Build(Users(("bob", UserRights.Mail), ("carol", UserRights.Mail)), """
            team: ops, carol, friend@far.test
            ops: bob, BOB+tag, bob@a.test, carol@B.TEST
            everyone: team, ops, friend@far.test
            """);

        Assert.Equal("mailbox bob, mailbox carol, friend@far.test", Find(table, "team"));
        Assert.Equal("mailbox bob, mailbox carol", Find(table, "ops"));
        Assert.Equal("mailbox bob, mailbox carol, friend@far.test", Find(table, "everyone"));
        Assert.Equal(3, table.AliasCount);
    }

    [Fact]
    public void AnAliasNamingItselfMeansTheMailboxOfThatName()
    {
        RecipientTable table = Build(Users(("bob", UserRights.Mail)), "bob: bob, copy@far.test");
        Assert.Equal("mailbox bob, copy@far.test", Find(table, "bob"));
    }

    [Theory]
    [InlineData("a: b\nb: a", "/w/aliases:2: alias loop: a -> b -> a")]
    [InlineData("a: b\nb: c\nc: b", "/w/aliases:3: alias loop: b -> c -> b")]
    [InlineData("a: b+x\nb: a", "/w/aliases:2: alias loop: a -> b -> a")]
    [InlineData("a: x@a.test\n@a.test: a", "/w/aliases:2: alias loop: a -> @a.test -> a")]
    [InlineData("a: b@b.test\nb: a@a.test", "/w/aliases:2: alias loop: a -> b -> a")]
    public void LoopsAreRefusedWithTheFileLineAndTheCycle(string aliases, string message)
    {
        AliasFileException e = Assert.Throws<AliasFileException>(() => Build(Users(), aliases));
        Assert.Equal(message, e.Message);
    }

    /// <summary>
    /// Aliases nest at most <see cref="AliasFile.MaxDepth"/> deep (Postfix's
    /// virtual_alias_recursion_limit): a deeper chain is an error naming its line, not a stack
    /// overflow of the thread that reads the file (which would end the server).
    /// </summary>
    [Fact]
    public void AliasesNestAtMostTheDepthLimit()
    {
        static string Chain(int links) =>
            string.Join('\n', Enumerable.Range(0, links).Select(i => $"a{i}: a{i + 1}")) + $"\na{links}: bob";

        RecipientTable deepest = Build(Users(("bob", UserRights.Mail)), Chain(AliasFile.MaxDepth - 1));
        Assert.Equal("mailbox bob", Find(deepest, "a0"));
        AliasFileException e = Assert.Throws<AliasFileException>(() => Build(Users(("bob", UserRights.Mail)), Chain(AliasFile.MaxDepth)));
        Assert.Equal($"/w/aliases:{AliasFile.MaxDepth}: 'a{AliasFile.MaxDepth - 1}': aliases nested more than {AliasFile.MaxDepth} deep (a0 -> a1 -> ... -> a{AliasFile.MaxDepth})", e.Message);

        // Far deeper than any stack holds: still the error.
        e = Assert.Throws<AliasFileException>(() => Build(Users(("bob", UserRights.Mail)), Chain(200_000)));
        Assert.Contains($"aliases nested more than {AliasFile.MaxDepth} deep", e.Message);
    }

    [Fact]
    public void AnAliasMayNotExpandToMoreThanTheLimit()
    {
        string many = string.Join(", ", Enumerable.Range(0, AliasFile.MaxTargets + 1).Select(i => $"u{i}@far.test"));
        AliasFileException e = Assert.Throws<AliasFileException>(() => Build(Users(), "big: " + many));
        Assert.Equal($"/w/aliases:1: 'big' expands to more than {AliasFile.MaxTargets} targets", e.Message);
    }

    [Fact]
    public void SubaddressesFallBackToTheUserOrAliasWithoutTheExtension()
    {
        RecipientTable table = Build(Users(("bob", UserRights.Mail)), "team: bob\nbob+spam: trash@far.test");

        Assert.Equal("mailbox bob", Find(table, "bob+alerts"));
        Assert.Equal("mailbox bob", Find(table, "Team+x"));
        Assert.Equal("trash@far.test", Find(table, "bob+spam"));
        Assert.Equal("unknown", Find(table, "bob+alerts", delimiters: ""));
        Assert.Equal("mailbox bob", Find(table, "bob-alerts", delimiters: "+-"));
        Assert.Equal("unknown", Find(table, "+bob"));
    }

    [Fact]
    public void ACatchAllTakesUnknownNamesOfItsDomainOnly()
    {
        RecipientTable table = Build(Users(("bob", UserRights.Mail), ("carol", UserRights.Mail)), "@a.test: carol\n@bücher.test: bob");

        Assert.Equal("mailbox bob", Find(table, "bob"));
        Assert.Equal("mailbox carol", Find(table, "anything"));
        Assert.Equal("unknown", Find(table, "anything", "b.test"));
        Assert.Equal("unknown", Find(table, "anything", null));
        Assert.Equal("mailbox bob", Find(table, "anything", "xn--bcher-kva.test"));
        Assert.Equal(2, table.CatchAllCount);
    }

    [Fact]
    public void UnknownLocalTargetsAreSkippedWithAWarningUnderKnownAndGetAFolderUnderAny()
    {
        UserStore users = Users(("bob", UserRights.Mail));
        const string Aliases = "team: bob, ghost\nnobody: ghost, phantom@a.test\n@z.test: bob";

        RecipientTable known = Build(users, Aliases);
        Assert.Equal("mailbox bob", Find(known, "team"));
        Assert.Equal("unknown", Find(known, "nobody"));
        Assert.Equal(
            [
                "/w/aliases:1: 'ghost' is not a user with the mail right, an alias or postmaster/abuse/root: skipped",
                "/w/aliases:2: 'ghost' is not a user with the mail right, an alias or postmaster/abuse/root: skipped",
                "/w/aliases:2: 'phantom' is not a user with the mail right, an alias or postmaster/abuse/root: skipped",
                "/w/aliases:2: every target of 'nobody' was skipped: mail to it is refused",
                "/w/aliases:3: @z.test is not in LOCAL-DOMAIN: this catch-all has no effect",
            ],
            known.Warnings);

        RecipientTable any = Build(users, Aliases, Settings("LOCAL-RCPT:ANY"));
        Assert.Equal("mailbox bob, mailbox ghost", Find(any, "team"));
        Assert.Equal("mailbox ghost, mailbox phantom", Find(any, "nobody"));
    }
}
