namespace AbilisFast.Server.Tests.IpBan;

public sealed class IpBanServiceTests : IDisposable
{
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.7");
    private static readonly IPAddress Other = IPAddress.Parse("198.51.100.9");

    private readonly string _dir = ServerProcess.NewWorkDir();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Bans_after_exactly_max_fail_failures_within_find_time()
    {
        var ban = New(new IpBanOptions { MaxFail = 3 });
        AssertBannedAtFailure(ban, Attacker, 3);
        Assert.False(ban.IsBanned(Other));
    }

    [Fact]
    public void Failures_spread_beyond_find_time_do_not_ban()
    {
        var ban = New(new IpBanOptions { MaxFail = 3, FindTimeMinutes = 10 });
        Fail(ban, Attacker, 2);
        _time.Advance(TimeSpan.FromMinutes(10));
        Fail(ban, Attacker, 1); // the first two are exactly FIND-TIME old: out of the window
        Assert.False(ban.IsBanned(Attacker));
        _time.Advance(TimeSpan.FromMinutes(9));
        Fail(ban, Attacker, 1);
        Assert.False(ban.IsBanned(Attacker));
        Fail(ban, Attacker, 1);
        Assert.True(ban.IsBanned(Attacker));
    }

    [Fact]
    public void Default_options_ban_at_ten_and_white_list_private_addresses()
    {
        var ban = New();
        Fail(ban, IPAddress.Loopback, 50);
        Fail(ban, IPAddress.Parse("192.168.1.5"), 50);
        Fail(ban, IPAddress.IPv6Loopback, 50);
        Assert.False(ban.IsBanned(IPAddress.Loopback));
        Assert.False(ban.IsBanned(IPAddress.Parse("192.168.1.5")));
        Assert.False(ban.IsBanned(IPAddress.IPv6Loopback));
        Assert.Empty(ban.List());
        Assert.Equal(0, ban.TrackedAddresses);

        AssertBannedAtFailure(ban, Attacker, 10);
    }

    [Fact]
    public void Ban_expires_after_ban_time()
    {
        var ban = New(new IpBanOptions { MaxFail = 1, BanTimeMinutes = 60 });
        Fail(ban, Attacker, 1);
        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.True(ban.IsBanned(Attacker));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(ban.IsBanned(Attacker));
        Assert.Empty(ban.List());
    }

    [Fact]
    public void List_shows_bans_and_lift_removes_them()
    {
        var ban = New(new IpBanOptions { MaxFail = 2, BanTimeMinutes = 30 });
        DateTimeOffset since = _time.GetUtcNow();
        Fail(ban, Attacker, 2, "login boss");
        _time.Advance(TimeSpan.FromMinutes(1));
        Fail(ban, Other, 2);

        IReadOnlyList<BanEntry> list = ban.List();
        Assert.Equal(2, list.Count);
        Assert.Equal(new BanEntry(Attacker, since, since.AddMinutes(30), 2, "login boss"), list[0]);
        Assert.Equal(Other, list[1].Address);

        Assert.True(ban.Lift(Attacker));
        Assert.False(ban.Lift(Attacker));
        Assert.False(ban.IsBanned(Attacker));
        Assert.True(ban.IsBanned(Other));
        Assert.Equal([Other], ban.List().Select(e => e.Address));

        // After a lift the address starts counting from zero.
        Fail(ban, Attacker, 1);
        Assert.False(ban.IsBanned(Attacker));
    }

    [Fact]
    public void Action_mail_raises_alert_without_banning()
    {
        var ban = New(new IpBanOptions { MaxFail = 2, Action = IpBanAction.Mail });
        var alerts = new List<BanEvent>();
        ban.Alert += alerts.Add;
        Fail(ban, Attacker, 2, "login x");
        Assert.False(ban.IsBanned(Attacker));
        BanEvent alert = Assert.Single(alerts);
        Assert.Equal((Attacker, 2, (DateTimeOffset?)null, "login x"), (alert.Address, alert.Failures, alert.Until, alert.What));
        Assert.False(File.Exists(Path.Combine(_dir, "ipban")));
    }

    [Fact]
    public void Action_both_bans_and_raises_alert()
    {
        var ban = New(new IpBanOptions { MaxFail = 2, Action = IpBanAction.Both, BanTimeMinutes = 5 });
        var alerts = new List<BanEvent>();
        ban.Alert += alerts.Add;
        Fail(ban, Attacker, 2, "login y");
        Assert.True(ban.IsBanned(Attacker));
        BanEvent alert = Assert.Single(alerts);
        Assert.Equal((Attacker, 2, (DateTimeOffset?)_time.GetUtcNow().AddMinutes(5), "login y"), (alert.Address, alert.Failures, alert.Until, alert.What));
    }

    [Fact]
    public void Action_ban_raises_no_alert()
    {
        var ban = New(new IpBanOptions { MaxFail = 1 });
        int alerts = 0;
        ban.Alert += _ => alerts++;
        Fail(ban, Attacker, 1);
        Assert.True(ban.IsBanned(Attacker));
        Assert.Equal(0, alerts);
    }

    [Fact]
    public void Ipv4_mapped_addresses_count_as_ipv4()
    {
        var ban = New(new IpBanOptions { MaxFail = 2 });
        Fail(ban, Attacker.MapToIPv6(), 1);
        Fail(ban, Attacker, 1);
        Assert.True(ban.IsBanned(Attacker));
        Assert.True(ban.IsBanned(Attacker.MapToIPv6()));
        Assert.Equal(Attacker, ban.List()[0].Address);

        // Mapped loopback is white-listed like 127.0.0.1.
        Fail(ban, IPAddress.Loopback.MapToIPv6(), 5);
        Assert.False(ban.IsBanned(IPAddress.Loopback));
        Assert.True(ban.Lift(Attacker.MapToIPv6()));
    }

    [Fact]
    public void Ipv6_clients_are_counted_and_banned_by_their_slash_64()
    {
        var ban = New(new IpBanOptions { MaxFail = 2 });

        // One failure each from two addresses of one /64: that is MAX-FAIL for the network.
        Fail(ban, IPAddress.Parse("2001:db8::1"), 1);
        Fail(ban, IPAddress.Parse("2001:db8::ffff:2"), 1);
        Assert.True(ban.IsBanned(IPAddress.Parse("2001:db8::1")));
        Assert.True(ban.IsBanned(IPAddress.Parse("2001:db8::abcd:1234:5678:9abc")));
        Assert.False(ban.IsBanned(IPAddress.Parse("2001:db8:0:1::1")));
        Assert.Equal(IPAddress.Parse("2001:db8::"), Assert.Single(ban.List()).Address);

        // Lifted by any address of it.
        Assert.True(ban.Lift(IPAddress.Parse("2001:db8::77")));
        Assert.False(ban.IsBanned(IPAddress.Parse("2001:db8::1")));
    }

    [Fact]
    public void Ipv6PrefixSes128_counts_each_ipv6_address()
    {
        var ban = New(new IpBanOptions { MaxFail = 2 });
        ban.Ipv6PrefixLength = () => 128;
        Fail(ban, IPAddress.Parse("2001:db8::1"), 1);
        Fail(ban, IPAddress.Parse("2001:db8::2"), 1);
        Assert.False(ban.IsBanned(IPAddress.Parse("2001:db8::1")));
        Fail(ban, IPAddress.Parse("2001:db8::1"), 1);
        Assert.True(ban.IsBanned(IPAddress.Parse("2001:db8::1")));
        Assert.False(ban.IsBanned(IPAddress.Parse("2001:db8::2")));

        // Back to /64: the ban made for the single address still holds.
        ban.Ipv6PrefixLength = () => 64;
        Assert.True(ban.IsBanned(IPAddress.Parse("2001:db8::1")));
        Assert.False(ban.IsBanned(IPAddress.Parse("2001:db8::2")));
    }

    [Fact]
    public void Custom_white_list_is_honoured()
    {
        var ban = New(new IpBanOptions { MaxFail = 1, WhiteList = new IpAccessList([IpNetwork.Parse("203.0.113/24")]) });
        Fail(ban, Attacker, 3);
        Fail(ban, IPAddress.Loopback, 1);
        Assert.False(ban.IsBanned(Attacker));
        Assert.True(ban.IsBanned(IPAddress.Loopback));
    }

    [Fact]
    public void Tracked_addresses_are_bounded()
    {
        var ban = New(new IpBanOptions { MaxFail = 1000 });
        for (int i = 0; i < IpBanService.MaxTrackedAddresses + 500; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            ban.RecordFailure(new IPAddress((uint)(0x0A000001 + i) | 0x01u << 30), "x");
        }

        Assert.InRange(ban.TrackedAddresses, 1, IpBanService.MaxTrackedAddresses);
    }

    [Fact]
    public async Task Concurrent_failures_are_counted_consistently()
    {
        const int threads = 8;
        const int addresses = 200;
        var ban = New(new IpBanOptions { MaxFail = threads * 5 });
        int alerts = 0;
        ban.Alert += _ => Interlocked.Increment(ref alerts);
        ban.Options = ban.Options with { Action = IpBanAction.Both };

        Task[] workers = Enumerable.Range(0, threads).Select(t => Task.Run(() =>
        {
            for (int round = 0; round < 5; round++)
            {
                for (int a = 0; a < addresses; a++)
                {
                    IPAddress address = Addr(a);
                    ban.RecordFailure(address, "t");
                    _ = ban.IsBanned(address);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);

        // Each address failed exactly MAX-FAIL times: each is banned once, with one alert.
        Assert.Equal(addresses, ban.List().Count);
        Assert.Equal(addresses, alerts);
        Assert.All(Enumerable.Range(0, addresses), a => Assert.True(ban.IsBanned(Addr(a))));
        Assert.Equal(0, ban.TrackedAddresses);
        Assert.Equal(addresses, New().List().Count);

        static IPAddress Addr(int a) => IPAddress.Parse($"100.64.{a / 250}.{(a % 250) + 1}");
    }

    private IpBanService New(IpBanOptions? options = null) => new(_dir, _time, options);

    /// <summary><paramref name="failures"/> - 1 failures do not ban <paramref name="address"/>; one more does.</summary>
    private static void AssertBannedAtFailure(IpBanService ban, IPAddress address, int failures)
    {
        Fail(ban, address, failures - 1);
        Assert.False(ban.IsBanned(address));
        Fail(ban, address, 1);
        Assert.True(ban.IsBanned(address));
    }

    private static void Fail(IpBanService ban, IPAddress address, int times, string what = "login")
    {
        for (int i = 0; i < times; i++)
        {
            ban.RecordFailure(address, what);
        }
    }
}
