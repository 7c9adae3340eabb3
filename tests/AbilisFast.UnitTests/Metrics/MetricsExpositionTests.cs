using AbilisFast.Server.Metrics;

namespace AbilisFast.Server.Tests.Metrics;

public sealed class MetricsExpositionTests
{
    [Fact]
    public void BothFormatsCarryTheSameSamplesAndDifferOnlyInCounterFamilyNamesAndTheEnd()
    {
        using var server = new TestServerContext();
        SmtpContext context = server.Context;
        context.Counters.Increment(SmtpCounter.ExtSucc, Direction.In);
        context.Metrics.ObserveDelivery(TimeSpan.FromSeconds(2));
        MetricsSnapshot snapshot = MetricsSnapshot.Take(context);

        string prometheus = MetricsExposition.Format(snapshot, MetricsFormat.Prometheus);
        string openMetrics = MetricsExposition.Format(snapshot, MetricsFormat.OpenMetrics);

        static string[] Samples(string text) => [.. text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith("process_", StringComparison.Ordinal) && !l.StartsWith("abilisfast_gc_", StringComparison.Ordinal))];
        Assert.Equal(Samples(prometheus), Samples(openMetrics));
        Assert.Contains("abilisfast_smtp_events_total{counter=\"EXT-SUCC\",direction=\"in\"} 1\n", prometheus);
        Assert.Contains("# TYPE abilisfast_smtp_events_total counter\n", prometheus);
        Assert.Contains("# TYPE abilisfast_smtp_events counter\n", openMetrics);
        Assert.Contains("abilisfast_delivery_delay_seconds_bucket{le=\"1\"} 0\n", prometheus);
        Assert.Contains("abilisfast_delivery_delay_seconds_bucket{le=\"5\"} 1\n", prometheus);
        Assert.Contains("abilisfast_delivery_delay_seconds_sum 2\n", prometheus);
        Assert.EndsWith("# EOF\n", openMetrics);
        Assert.DoesNotContain("# EOF", prometheus);
    }

    [Fact]
    public void LabelValuesAreEscaped()
    {
        Assert.Equal("a=\"x\\\"y\\\\z\\nw\",b=\"\"", MetricsWriter.Labels(("a", "x\"y\\z\nw"), ("b", "")));
    }

    [Fact]
    public void EventCountersAreWrittenAsOneFamilyWithASampleForEachLabelValue()
    {
        using var server = new TestServerContext();
        SmtpContext context = server.Context;
        context.Loops.HopLimit.Increment();
        context.Reports.CountSuccess(delivered: 2, relayed: 1);
        context.Timeouts.Count(TimeoutReason.DataRate);
        MetricsSnapshot snapshot = MetricsSnapshot.Take(context);

        string prometheus = MetricsExposition.Format(snapshot, MetricsFormat.Prometheus);
        Assert.Contains(
            "# HELP abilisfast_smtp_loops_total mail loops caught since the start: over HOP-LIMIT (refused 554 5.4.6), next hop is this server (failed 5.4.6)\n"
            + "# TYPE abilisfast_smtp_loops_total counter\n"
            + "abilisfast_smtp_loops_total{detected=\"hop-limit\"} 1\n"
            + "abilisfast_smtp_loops_total{detected=\"loops-back\"} 0\n",
            prometheus);
        Assert.Contains(
            "abilisfast_smtp_in_timeouts_total{deadline=\"DT\"} 0\n"
            + "abilisfast_smtp_in_timeouts_total{deadline=\"DATA-TIMEOUT\"} 0\n"
            + "abilisfast_smtp_in_timeouts_total{deadline=\"MIN-DATA-RATE\"} 1\n",
            prometheus);
        Assert.Contains(
            "abilisfast_smtp_dsn_recipients_total{action=\"delivered\"} 2\n"
            + "abilisfast_smtp_dsn_recipients_total{action=\"relayed\"} 1\n"
            + "abilisfast_smtp_dsn_recipients_total{action=\"delayed\"} 0\n",
            prometheus);
        Assert.Contains("# TYPE abilisfast_smtp_dsn_reports counter\nabilisfast_smtp_dsn_reports_total{report=\"success\"} 1\n",
            MetricsExposition.Format(snapshot, MetricsFormat.OpenMetrics));
    }
}
