namespace AbilisFast.Server.Tests.Metrics;

public sealed class HistogramTests
{
    [Fact]
    public void AValueGoesToTheFirstBucketWhoseBoundIsAtLeastItAndTheCountsAreCumulative()
    {
        var histogram = new Histogram([1, 2, 4], rawPerUnit: 1000); // raw unit: milliseconds
        foreach (long ms in (long[])[0, 1000, 1001, 2000, 3999, 4000, 4001, 60_000])
        {
            histogram.Observe(ms);
        }

        HistogramSnapshot snapshot = histogram.Snapshot();
        Assert.Equal(["1", "2", "4"], snapshot.BoundLabels);
        Assert.Equal([2L, 4L, 6L, 8L], snapshot.Cumulative); // le=1: 0 and 1000; le=2: +1001, 2000; le=4: +3999, 4000; +Inf: +4001, 60000
        Assert.Equal(8, snapshot.Count);
        Assert.Equal((0 + 1000 + 1001 + 2000 + 3999 + 4000 + 4001 + 60_000) / 1000.0, snapshot.Sum, 9);
    }

    [Fact]
    public async Task ObservationsFromManyThreadsAreAllCounted()
    {
        var histogram = new Histogram(ServerMetrics.BatchBounds, 1);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 25_000; i++)
            {
                histogram.Observe(1 + (i % 600));
            }
        })));

        HistogramSnapshot snapshot = histogram.Snapshot();
        Assert.Equal(100_000, snapshot.Count);
        Assert.Equal(4 * Enumerable.Range(0, 25_000).Sum(i => 1L + (i % 600)), (long)snapshot.Sum);
        for (int b = 0; b < ServerMetrics.BatchBounds.Length; b++)
        {
            Assert.Equal(4L * CountUpTo(ServerMetrics.BatchBounds[b]), snapshot.Cumulative[b]);
        }

        static int CountUpTo(double bound) => Enumerable.Range(0, 25_000).Count(i => 1 + (i % 600) <= bound);
    }

    [Fact]
    public void AnObservationAllocatesNothing()
    {
        var metrics = new ServerMetrics();
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        long allocated = Allocations.LeastOf(5, () =>
        {
            for (int i = 0; i < 1000; i++)
            {
                metrics.ObserveAccept(started);
                metrics.ObserveDelivery(TimeSpan.FromMilliseconds(i));
            }
        });

        Assert.Equal(0, allocated);
    }
}
