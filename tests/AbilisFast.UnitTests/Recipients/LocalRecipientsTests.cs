namespace AbilisFast.Server.Tests.Recipients;

/// <summary>The running server's view of WDIR/users and WDIR/aliases: changes count, bad files do not.</summary>
public sealed class LocalRecipientsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("abilisfast-live-").FullName;
    private readonly List<string> _reports = [];
    private readonly SmtpSettings _settings = TestSettings.Create("LOCAL-DOMAIN:a.test", "STORE-MB:YES");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string AliasesPath => AliasFile.PathIn(_dir);

    private LocalRecipients Start() => new(_dir, line =>
    {
        lock (_reports)
        {
            _reports.Add(line);
        }
    });

    private static string Find(LocalRecipients recipients, SmtpSettings settings, string local) =>
        recipients.For(settings).Find(local, "a.test", settings.RecipientDelimiter) is { } targets ? string.Join(", ", targets.Select(t => t.ToString())) : "unknown";

    /// <summary>Writes a file so that its time stamp differs from the last one even on a coarse clock.</summary>
    private static void Write(string path, string text, int generation)
    {
        File.WriteAllText(path, text);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-10 + generation));
    }

    [Fact]
    public void AChangedAliasesFileCountsAtTheNextRefreshAndABadOneKeepsThePreviousTable()
    {
        UserStore.Load(_dir).Set("bob", UserRights.Mail, "pw");
        File.SetLastWriteTimeUtc(UserStore.PathIn(_dir), DateTime.UtcNow.AddMinutes(-20));
        Write(AliasesPath, "team: bob\n", 0);
        LocalRecipients recipients = Start();
        Assert.Equal("mailbox bob", Find(recipients, _settings, "team"));
        Assert.False(recipients.Refresh());

        Write(AliasesPath, "team: bob\nsales: bob, boss@far.test\n", 1);
        Assert.True(recipients.Refresh());
        Assert.Equal("mailbox bob, boss@far.test", Find(recipients, _settings, "sales"));
        Assert.Contains(_reports, r => r.StartsWith($"aliases: {AliasesPath} read again: 2 entries", StringComparison.Ordinal));

        // A program target: refused with FILE:LINE, and the table in force stays.
        Write(AliasesPath, "team: bob\nsales: |/usr/bin/evil\n", 2);
        Assert.False(recipients.Refresh());
        Assert.Contains($"aliases: {AliasesPath}:2: 'sales': program targets (|command) are refused: an appliance relay runs no programs for mail; the aliases read before stay in force", _reports);
        Assert.Equal("mailbox bob, boss@far.test", Find(recipients, _settings, "sales"));

        // A loop is found when the file is read (the table is built at once) and changes nothing either.
        recipients.Settings = () => _settings;
        Write(AliasesPath, "team: sales\nsales: team\n", 3);
        Assert.True(recipients.Refresh());
        Assert.Contains($"aliases: {AliasesPath}:2: alias loop: team -> sales -> team; the aliases read before stay in force", _reports);
        Assert.Equal("mailbox bob, boss@far.test", Find(recipients, _settings, "sales"));

        // Removing the file removes the aliases.
        File.Delete(AliasesPath);
        Assert.True(recipients.Refresh());
        Assert.Equal("unknown", Find(recipients, _settings, "sales"));
        Assert.Equal("mailbox bob", Find(recipients, _settings, "bob"));
    }

    [Fact]
    public void UsersAddedOrDeletedCountWithoutARestartAndSettingsChangesRebuild()
    {
        LocalRecipients recipients = Start();
        Assert.Equal("unknown", Find(recipients, _settings, "carol"));

        UserStore.Load(_dir).Set("carol", UserRights.Mail, "pw");
        File.SetLastWriteTimeUtc(UserStore.PathIn(_dir), DateTime.UtcNow.AddMinutes(-5));
        Assert.True(recipients.Refresh());
        Assert.Equal("mailbox carol", Find(recipients, _settings, "carol+news"));

        SmtpSettings noExtensions = _settings with { RecipientDelimiter = string.Empty };
        Assert.Equal("unknown", Find(recipients, noExtensions, "carol+news"));

        Assert.True(UserStore.Load(_dir).Delete("carol"));
        File.SetLastWriteTimeUtc(UserStore.PathIn(_dir), DateTime.UtcNow.AddMinutes(-4));
        Assert.True(recipients.Refresh());
        Assert.Equal("unknown", Find(recipients, _settings, "carol"));
    }

    [Fact]
    public void ADamagedUsersFileKeepsTheUsersReadBefore()
    {
        UserStore.Load(_dir).Set("bob", UserRights.Mail, "old");
        var users = new UserDirectory(_dir, _reports.Add);
        Assert.Equal(UserRights.Mail, users.Verify("bob", "old"));

        File.AppendAllText(UserStore.PathIn(_dir), "garbage line\n");
        File.SetLastWriteTimeUtc(UserStore.PathIn(_dir), DateTime.UtcNow.AddMinutes(-3));
        Assert.Equal(UserRights.Mail, users.Verify("bob", "old"));
        Assert.Contains(_reports, r => r.Contains(":3: malformed user line; the users read before stay in force", StringComparison.Ordinal));
    }

    [Fact]
    public void ANewPasswordCountsAtTheNextVerifyAndTheOldOneNoLonger()
    {
        var store = UserStore.Load(_dir);
        store.Set("boss", UserRights.Admin, "first");
        var users = new UserDirectory(_dir);
        Assert.Equal(UserRights.Admin, users.Verify("boss", "first"));

        // Rewritten at once (same second): the settle rule reads it again even if the stamp looks the same.
        UserStore.Load(_dir).Set("boss", UserRights.Admin, "second");
        Assert.Equal(UserRights.Admin, users.Verify("boss", "second"));
        Assert.Null(users.Verify("boss", "first"));

        UserStore.Load(_dir).Delete("boss");
        Assert.Null(users.Verify("boss", "second"));
    }

    [Fact]
    public void TheStartLineSaysWhatIsInForce()
    {
        UserStore.Load(_dir).Set("bob", UserRights.Mail, "pw");
        UserStore.Load(_dir).Set("admin", UserRights.Admin, "pw");
        Write(AliasesPath, "team: bob\n@a.test: bob\n", 0);
        LocalRecipients recipients = Start();
        Assert.Equal(
            $"recipients: 1 mail user(s), 1 alias(es), 1 catch-all(s) from {AliasesPath}; postmaster, abuse and root go to mailbox admin",
            recipients.Describe(recipients.For(_settings)));
    }
}
