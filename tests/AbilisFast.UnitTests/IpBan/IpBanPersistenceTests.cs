namespace AbilisFast.Server.Tests.IpBan;

public sealed class IpBanPersistenceTests : IDisposable
{
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.7");

    private readonly string _dir = ServerProcess.NewWorkDir();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));

    private string FilePath => Path.Combine(_dir, "ipban");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Ban_survives_a_new_instance_on_the_same_directory()
    {
        var first = new IpBanService(_dir, _time, new IpBanOptions { MaxFail = 2, BanTimeMinutes = 60 });
        DateTimeOffset since = _time.GetUtcNow();
        first.RecordFailure(Attacker, "login");
        first.RecordFailure(Attacker, "login");

        long until = since.AddMinutes(60).ToUnixTimeSeconds();
        Assert.Equal($"203.0.113.7 {until} {since.ToUnixTimeSeconds()} 2\n", File.ReadAllText(FilePath));
        Assert.False(File.Exists(FilePath + ".tmp"));

        var second = new IpBanService(_dir, _time);
        Assert.True(second.IsBanned(Attacker));
        BanEntry entry = Assert.Single(second.List());
        Assert.Equal(new BanEntry(Attacker, since, since.AddMinutes(60), 2, "restored"), entry);

        _time.Advance(TimeSpan.FromMinutes(60));
        Assert.False(new IpBanService(_dir, _time).IsBanned(Attacker));
    }

    [Fact]
    public void Lift_is_persisted()
    {
        var first = new IpBanService(_dir, _time, new IpBanOptions { MaxFail = 1 });
        first.RecordFailure(Attacker, "login");
        first.RecordFailure(IPAddress.Parse("2001:db8::5"), "login");
        Assert.True(first.Lift(Attacker));

        var second = new IpBanService(_dir, _time);
        Assert.False(second.IsBanned(Attacker));
        Assert.True(second.IsBanned(IPAddress.Parse("2001:db8::5")));
    }

    [Fact]
    public void Expired_and_malformed_lines_are_skipped_and_reported()
    {
        long now = _time.GetUtcNow().ToUnixTimeSeconds();
        File.WriteAllText(FilePath, string.Join('\n',
            $"198.51.100.1 {now + 100} {now - 100} 10",
            $"198.51.100.2 {now - 1} {now - 100} 10",
            "garbage",
            $"not-an-ip {now + 100} {now} 10",
            $"198.51.100.3 {now + 100} {now} ten",
            $"198.51.100.4 -5 {now} 10",
            $"198.51.100.5 {now + 100} {now}",
            $"198.51.100.6 99999999999999999 {now} 10",
            string.Empty,
            $"::ffff:198.51.100.7 {now + 100} {now} 3") + "\n");

        var log = new List<string>();
        var ban = new IpBanService(_dir, _time, log: log.Add);

        Assert.Equal(
            ["198.51.100.1", "198.51.100.7"],
            ban.List().Select(e => e.Address.ToString()).Order());
        Assert.False(ban.IsBanned(IPAddress.Parse("198.51.100.2")));
        Assert.Equal(6, log.Count);
        Assert.Contains($"ipban: {FilePath} line 3 is malformed, skipped", log);
    }

    [Fact]
    public void Missing_file_means_no_bans()
    {
        var ban = new IpBanService(_dir, _time);
        Assert.Empty(ban.List());
        Assert.False(ban.IsBanned(Attacker));
    }

    [Fact]
    public void Unwritable_directory_is_logged_not_thrown()
    {
        string missing = Path.Combine(_dir, "gone");
        var log = new List<string>();
        var ban = new IpBanService(missing, _time, new IpBanOptions { MaxFail = 1 }, log.Add);
        ban.RecordFailure(Attacker, "login");
        Assert.True(ban.IsBanned(Attacker));
        Assert.Single(log);
        Assert.StartsWith("ipban: cannot write ", log[0]);
    }
}
