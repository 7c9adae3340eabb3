using System.Net;
using AbilisFast.Server.Access;
using AbilisFast.Server.Configuration;
using AbilisFast.Server.Tests.Support;

namespace AbilisFast.Server.Tests.IpBan;

public sealed class IpBanServiceTests : IDisposable
{
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.7");
    private readonly string _dir = ServerProcess.NewWorkDir();
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private IpBanService Create(int maxFail = 3) =>
        new(_dir, new IpBanOptions { MaxFail = maxFail, FindTime = TimeSpan.FromMinutes(10), BanTime = TimeSpan.FromMinutes(60) }, _time);

    [Fact]
    public void MaxFailFailuresWithinFindTimeBan()
    {
        IpBanService bans = Create();
        Assert.False(bans.RecordFailure(Attacker, "test"));
        Assert.False(bans.RecordFailure(Attacker, "test"));
        Assert.False(bans.IsBanned(Attacker));
        Assert.True(bans.RecordFailure(Attacker, "test"));
        Assert.True(bans.IsBanned(Attacker));
        Assert.True(bans.IsBanned(IPAddress.Parse("::ffff:203.0.113.7")));
        Assert.False(bans.IsBanned(IPAddress.Parse("203.0.113.8")));
        BanEntry entry = Assert.Single(bans.List());
        Assert.Equal((Attacker, 3, _time.Now + TimeSpan.FromMinutes(60)), (entry.Address, entry.Failures, entry.Until));
    }

    [Fact]
    public void FailuresSpreadBeyondFindTimeDoNotBan()
    {
        IpBanService bans = Create();
        for (int i = 0; i < 6; i++)
        {
            Assert.False(bans.RecordFailure(Attacker, "test"));
            _time.Now += TimeSpan.FromMinutes(6);
        }

        Assert.False(bans.IsBanned(Attacker));
    }

    [Fact]
    public void TheWhiteListIsNeverBanned()
    {
        var bans = new IpBanService(_dir, new IpBanOptions { MaxFail = 1 }, _time);
        Assert.Equal(NamedIpLists.BuiltInPrivate, bans.Options.WhiteList);
        for (int i = 0; i < 20; i++)
        {
            Assert.False(bans.RecordFailure(IPAddress.Loopback, "test"));
        }

        Assert.False(bans.IsBanned(IPAddress.Loopback));
        Assert.True(bans.RecordFailure(Attacker, "test"));
    }

    [Fact]
    public void BansExpireAndCanBeLifted()
    {
        IpBanService bans = Create(maxFail: 1);
        bans.RecordFailure(Attacker, "test");
        IPAddress other = IPAddress.Parse("2001:db8::1");
        bans.RecordFailure(other, "test");
        Assert.True(bans.Lift(other));
        Assert.False(bans.Lift(other));
        Assert.False(bans.IsBanned(other));
        _time.Now += TimeSpan.FromMinutes(61);
        Assert.False(bans.IsBanned(Attacker));
        Assert.Empty(bans.List());
    }

    [Fact]
    public void BansSurviveARestartAndBadLinesAreSkipped()
    {
        Create(maxFail: 1).RecordFailure(Attacker, "test");
        File.AppendAllText(Path.Combine(_dir, "ipban"), "garbage line\n198.51.100.1 1 0 3\n");
        var logged = new List<string>();
        var again = new IpBanService(_dir, new IpBanOptions(), _time, logged.Add);
        Assert.True(again.IsBanned(Attacker));
        Assert.False(again.IsBanned(IPAddress.Parse("198.51.100.1"))); // expired in 1970
        Assert.Single(again.List());
        Assert.Contains(logged, l => l.Contains("malformed line skipped", StringComparison.Ordinal));
    }

    [Fact]
    public void ManyThreadsRecordingFailuresStayConsistent()
    {
        IpBanService bans = Create(maxFail: 50);
        Parallel.For(0, 8, t =>
        {
            for (int i = 0; i < 1000; i++)
            {
                bans.RecordFailure(IPAddress.Parse($"203.0.{t}.{i % 20}"), "test");
            }
        });

        // Each of the 160 addresses got 50 failures (1000 / 20) within FIND-TIME: all banned.
        Assert.Equal(160, bans.List().Count);
    }
}
