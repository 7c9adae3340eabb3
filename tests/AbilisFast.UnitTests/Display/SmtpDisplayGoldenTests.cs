using static AbilisFast.Server.Tests.Display.SeedText;

namespace AbilisFast.Server.Tests.Display;

/// <summary>The displays against the seed's examples (36.4.1 and 36.4.2), character for character.</summary>
public sealed class SmtpDisplayGoldenTests
{
    [Fact]
    public void D_d_smtp_matches_the_documented_body()
    {
        SmtpDisplaySnapshot snapshot = Snapshot([], Counters(SeedClock)) with
        {
            CurrentSessions = 3,
            ActiveResIn = 1,
            ActiveMixIn = 2,
        };

        Assert.Equal(
            Block(
                ResHeader,
                "       STATE:ACTIVE          CUR-SES:3",
                "       ACTIVE-RES-IN:1       ACTIVE-RES-OUT:0      ACTIVE-MIX-IN:2       ACTIVE-MIX-OUT:0",
                "       QUEUE-OUT:0           QUEUE-DEFER:0"),
            SmtpDisplay.DisplayResource(snapshot));
    }

    [Fact]
    public void D_d_smtp_shows_inactive_when_act_is_no()
    {
        SmtpDisplaySnapshot snapshot = Snapshot([], Counters(SeedClock)) with { Active = false, QueueOut = 12, QueueDefer = 3 };

        string text = SmtpDisplay.DisplayResource(snapshot);

        Assert.Contains("\r\n       STATE:INACTIVE        CUR-SES:0\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\n       QUEUE-OUT:12          QUEUE-DEFER:3\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void D_de_smtp_matches_the_seed_table()
    {
        var rows = new List<SmtpChannelRow>();
        for (int i = 0; i < 10; i++)
        {
            rows.Add(i < 2 ? Idle(i, Direction.Out, TcpState.Ready, Counters(SeedClock)) : Idle(i, Direction.In, TcpState.Listen, Counters(SeedClock)));
        }

        Assert.Equal(
            Block(
                ResHeader,
                "       STATE:ACTIVE          CUR-SES:0",
                "       ACTIVE-RES-IN:0       ACTIVE-RES-OUT:0      ACTIVE-MIX-IN:0       ACTIVE-MIX-OUT:0",
                "       QUEUE-OUT:0           QUEUE-DEFER:0",
                SessionsHeader,
                TableHeader,
                "       0  OUT  READY                                                 READY",
                "       1  OUT  READY                                                 READY",
                "       2  IN   LISTEN                          READY",
                "       3  IN   LISTEN                          READY",
                "       4  IN   LISTEN                          READY",
                "       5  IN   LISTEN                          READY",
                "       6  IN   LISTEN                          READY",
                "       7  IN   LISTEN                          READY",
                "       8  IN   LISTEN                          READY",
                "       9  IN   LISTEN                          READY"),
            SmtpDisplay.DisplayDetailed(Snapshot(rows, Counters(SeedClock))));
    }

    [Fact]
    public void D_s_smtp_matches_the_seed()
    {
        SmtpDisplaySnapshot snapshot = Snapshot([], ResourceCountersOfSeed()) with
        {
            Now = SeedClock + new TimeSpan(3, 21, 28, 37),
        };

        Assert.Equal(
            Block(
            [
                ResHeader,
                "       --- Cleared 3 days 21:28:37 ago, on 29/09/2017 at 15:12:06 -------------",
                .. ResourceCounters,
            ]),
            SmtpDisplay.DisplayStatistics(snapshot));
    }

    [Fact]
    public void D_se_smtp_matches_the_seed()
    {
        SmtpChannelRow[] rows =
        [
            Idle(0, Direction.In, TcpState.Listen, ChannelCounters(callFailOut: 1)),
            Idle(1, Direction.In, TcpState.Listen, ChannelCounters(callFailOut: 1)),
            Idle(2, Direction.Out, TcpState.Ready, ChannelCounters(callFailOut: 0)),
            Idle(3, Direction.Out, TcpState.Ready, ChannelCounters(callFailOut: 0)),
        ];
        SmtpDisplaySnapshot snapshot = Snapshot(rows, ResourceCountersOfSeed()) with
        {
            Now = SeedClock + new TimeSpan(3, 21, 27, 52),
        };

        Assert.Equal(
            Block(
            [
                ResHeader,
                "       --- Cleared 3 days 21:27:52 ago, on 29/09/2017 at 15:12:06 -------------",
                .. ResourceCounters,
                SessionsHeader,
                TableHeader,
                "       0  IN   LISTEN                          READY",
                .. ChannelTable(callFailOut: 1),
                "       1  IN   LISTEN                          READY",
                .. ChannelTable(callFailOut: 1),
                "       2  OUT  READY                                                 READY",
                .. ChannelTable(callFailOut: 0),
                "       3  OUT  READY                                                 READY",
                .. ChannelTable(callFailOut: 0),
            ]),
            SmtpDisplay.DisplayStatisticsPerSession(snapshot));
    }

    /// <summary>A channel's counter table in the seed's <c>d se smtp</c> example (no DENIED-IP/BANNED-IP row).</summary>
    private static string[] ChannelTable(int callFailOut) =>
    [
        $"       CALL-SUCC  |          0|          1|CALL-FAIL  |          0|          {callFailOut}|",
        "       EXT-SUCC   |          0|          0|EXT-FAIL   |          0|          0|",
        "       NOTIFY     |           |          0|NOTIFY-LT  |           |          0|",
        "       NOTIFY-SUCC|           |          0|NOTIFY-FAIL|           |          0|",
        "       LOCAL-SUCC |          0|          0|LOCAL-FAIL |          0|          0|",
        "       RELAY-SUCC |          0|          1|RELAY-FAIL |          0|          0|",
        "       INT-SUCC   |          0|          1|INT-FAIL   |          0|          0|",
    ];

    private static SmtpCountersSnapshot ChannelCounters(int callFailOut)
    {
        var counters = new SmtpCounters(SeedClock);
        counters.Add(SmtpCounter.CallSucc, Direction.Out, 1);
        counters.Add(SmtpCounter.CallFail, Direction.Out, callFailOut);
        counters.Add(SmtpCounter.RelaySucc, Direction.Out, 1);
        counters.Add(SmtpCounter.IntSucc, Direction.Out, 1);
        return counters.Snapshot();
    }

    private static SmtpCountersSnapshot ResourceCountersOfSeed()
    {
        var counters = new SmtpCounters(SeedClock);
        counters.Add(SmtpCounter.CallSucc, Direction.Out, 4);
        counters.Add(SmtpCounter.CallFail, Direction.Out, 2);
        counters.Add(SmtpCounter.RelaySucc, Direction.Out, 4);
        counters.Add(SmtpCounter.IntSucc, Direction.In, 2);
        counters.Add(SmtpCounter.IntSucc, Direction.Out, 4);
        return counters.Snapshot();
    }

    private static SmtpCountersSnapshot Counters(DateTimeOffset clearedAt) => new SmtpCounters(clearedAt).Snapshot();

    private static SmtpChannelRow Idle(int number, Direction direction, TcpState tcp, SmtpCountersSnapshot counters)
        => new(number, direction, tcp, string.Empty, string.Empty, SmtpState.Ready, counters);

    private static SmtpDisplaySnapshot Snapshot(IReadOnlyList<SmtpChannelRow> rows, SmtpCountersSnapshot counters)
        => new(
            Active: true,
            CurrentSessions: 0,
            ActiveResIn: 0,
            ActiveResOut: 0,
            ActiveMixIn: 0,
            ActiveMixOut: 0,
            QueueOut: 0,
            QueueDefer: 0,
            Channels: rows,
            Counters: counters,
            Now: SeedClock,
            TimeZone: TimeZoneInfo.Utc);
}
