using AbilisFast.Server.Tests.Display;

namespace AbilisFast.Server.Tests.Diagnostics;

public sealed class SmtpCountersTests
{
    [Fact]
    public void Increments_from_many_threads_sum_exactly()
    {
        var counters = new SmtpCounters(SeedText.SeedClock);
        const int Threads = 8;
        const int PerThread = 50_000;

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                counters.Increment(SmtpCounter.CallSucc, Direction.In);
                counters.Increment(t % 2 == 0 ? SmtpCounter.RelaySucc : SmtpCounter.RelayFail, Direction.Out);
                counters.Add(SmtpCounter.Notify, Direction.Out, 2);
            }
        });

        Assert.Equal(Threads * PerThread, counters.Get(SmtpCounter.CallSucc, Direction.In));
        Assert.Equal(Threads / 2 * PerThread, counters.Get(SmtpCounter.RelaySucc, Direction.Out));
        Assert.Equal(Threads / 2 * PerThread, counters.Get(SmtpCounter.RelayFail, Direction.Out));
        Assert.Equal(2L * Threads * PerThread, counters.Get(SmtpCounter.Notify, Direction.Out));
        Assert.Equal(0, counters.Get(SmtpCounter.CallSucc, Direction.Out));
    }

    [Fact]
    public void Clear_resets_values_and_records_the_time()
    {
        var counters = new SmtpCounters(SeedText.SeedClock);
        counters.Increment(SmtpCounter.IntSucc, Direction.In);
        counters.Increment(SmtpCounter.DeniedIp, Direction.In);
        Assert.Equal(SeedText.SeedClock, counters.ClearedAt);

        DateTimeOffset later = SeedText.SeedClock.AddDays(1);
        counters.Clear(later);

        SmtpCountersSnapshot snapshot = counters.Snapshot();
        Assert.Equal(later, snapshot.ClearedAt);
        Assert.Equal(later, counters.ClearedAt);
        foreach (SmtpCounter counter in Enum.GetValues<SmtpCounter>())
        {
            foreach (Direction direction in Enum.GetValues<Direction>())
            {
                Assert.True(snapshot[counter, direction] is null or 0);
            }
        }
    }

    [Fact]
    public void Snapshot_holds_values_and_blank_cells()
    {
        var counters = new SmtpCounters(SeedText.SeedClock);
        counters.Add(SmtpCounter.CallSucc, Direction.Out, 4);
        counters.Add(SmtpCounter.CallFail, Direction.Out, 2);
        counters.Add(SmtpCounter.IntSucc, Direction.In, 2);

        SmtpCountersSnapshot snapshot = counters.Snapshot();

        Assert.Equal(4, snapshot[SmtpCounter.CallSucc, Direction.Out]);
        Assert.Equal(2, snapshot[SmtpCounter.CallFail, Direction.Out]);
        Assert.Equal(2, snapshot[SmtpCounter.IntSucc, Direction.In]);
        Assert.Equal(0, snapshot[SmtpCounter.IntSucc, Direction.Out]);
        Assert.Null(snapshot[SmtpCounter.NotifyLt, Direction.In]);
        Assert.Null(snapshot[SmtpCounter.BannedIp, Direction.Out]);
    }

    [Fact]
    public void Blank_cells_cannot_be_counted()
    {
        var counters = new SmtpCounters(SeedText.SeedClock);
        Assert.Throws<ArgumentException>(() => counters.Increment(SmtpCounter.Notify, Direction.In));
        Assert.Throws<ArgumentException>(() => counters.Increment(SmtpCounter.BannedIp, Direction.Out));
    }

    [Fact]
    public void Labels_and_cells_match_the_console()
    {
        string[] expected =
        [
            "CALL-SUCC", "CALL-FAIL", "EXT-SUCC", "EXT-FAIL", "NOTIFY", "NOTIFY-LT", "NOTIFY-SUCC", "NOTIFY-FAIL",
            "LOCAL-SUCC", "LOCAL-FAIL", "RELAY-SUCC", "RELAY-FAIL", "INT-SUCC", "INT-FAIL", "DENIED-IP", "BANNED-IP",
        ];
        Assert.Equal(expected, Enum.GetValues<SmtpCounter>().Select(SmtpCounterInfo.Label));

        string[] noIn = ["NOTIFY", "NOTIFY-LT", "NOTIFY-SUCC", "NOTIFY-FAIL"];
        string[] noOut = ["DENIED-IP", "BANNED-IP"];
        foreach (SmtpCounter counter in Enum.GetValues<SmtpCounter>())
        {
            string label = SmtpCounterInfo.Label(counter);
            Assert.Equal(!noIn.Contains(label), SmtpCounterInfo.HasCell(counter, Direction.In));
            Assert.Equal(!noOut.Contains(label), SmtpCounterInfo.HasCell(counter, Direction.Out));
        }
    }

    [Fact]
    public void Cleared_line_matches_the_console()
    {
        DateTimeOffset now = SeedText.SeedClock + new TimeSpan(3, 21, 28, 37);
        Assert.Equal(
            "--- Cleared 3 days 21:28:37 ago, on 29/09/2017 at 15:12:06 ---",
            SmtpCounterInfo.FormatCleared(SeedText.SeedClock, now));
    }
}
