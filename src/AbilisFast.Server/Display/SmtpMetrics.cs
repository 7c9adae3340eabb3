using System.Globalization;
using System.Text;
using AbilisFast.Server.Diagnostics;

namespace AbilisFast.Server.Display;

/// <summary>
/// The machine-readable form of <c>d d</c> and <c>d s</c> (console <c>d m smtp</c>), in the
/// OpenMetrics text format, for monitoring scripts: gauges for the resource state and queues, one
/// counter per Abilis counter cell (blank cells are left out), and the time of the last clear.
/// </summary>
internal static class SmtpMetrics
{
    public static string Format(SmtpDisplaySnapshot snapshot)
    {
        var text = new StringBuilder();
        Gauge(text, "abilisfast_smtp_active", "1 when the resource is ACTIVE (ACT:YES)", snapshot.Active ? 1 : 0);
        Gauge(text, "abilisfast_smtp_sessions", "CUR-SES: sessions in progress", snapshot.CurrentSessions);
        text.Append("# TYPE abilisfast_smtp_channels_active gauge\n");
        text.Append("# HELP abilisfast_smtp_channels_active ACTIVE-RES-IN, ACTIVE-RES-OUT, ACTIVE-MIX-IN, ACTIVE-MIX-OUT\n");
        Sample(text, "abilisfast_smtp_channels_active{pool=\"reserved\",direction=\"in\"}", snapshot.ActiveResIn);
        Sample(text, "abilisfast_smtp_channels_active{pool=\"reserved\",direction=\"out\"}", snapshot.ActiveResOut);
        Sample(text, "abilisfast_smtp_channels_active{pool=\"mix\",direction=\"in\"}", snapshot.ActiveMixIn);
        Sample(text, "abilisfast_smtp_channels_active{pool=\"mix\",direction=\"out\"}", snapshot.ActiveMixOut);
        text.Append("# TYPE abilisfast_smtp_queue gauge\n");
        text.Append("# HELP abilisfast_smtp_queue QUEUE-OUT and QUEUE-DEFER\n");
        Sample(text, "abilisfast_smtp_queue{queue=\"out\"}", snapshot.QueueOut);
        Sample(text, "abilisfast_smtp_queue{queue=\"defer\"}", snapshot.QueueDefer);

        text.Append("# TYPE abilisfast_smtp_events counter\n");
        text.Append("# HELP abilisfast_smtp_events The Abilis counters (d s smtp) since the last clear\n");
        foreach (SmtpCounter counter in Enum.GetValues<SmtpCounter>())
        {
            foreach (Direction direction in (ReadOnlySpan<Direction>)[Direction.In, Direction.Out])
            {
                if (snapshot.Counters[counter, direction] is long value)
                {
                    string label = SmtpCounterInfo.Label(counter);
                    string dir = direction == Direction.In ? "in" : "out";
                    Sample(text, $"abilisfast_smtp_events_total{{counter=\"{label}\",direction=\"{dir}\"}}", value);
                }
            }
        }

        text.Append("# TYPE abilisfast_smtp_in_timeouts counter\n");
        text.Append("# HELP abilisfast_smtp_in_timeouts inbound sessions ended by a deadline since the start\n");
        Sample(text, "abilisfast_smtp_in_timeouts_total{deadline=\"DT\"}", snapshot.Timeouts.Idle);
        Sample(text, "abilisfast_smtp_in_timeouts_total{deadline=\"DATA-TIMEOUT\"}", snapshot.Timeouts.DataDeadline);
        Sample(text, "abilisfast_smtp_in_timeouts_total{deadline=\"MIN-DATA-RATE\"}", snapshot.Timeouts.DataRate);
        text.Append("# TYPE abilisfast_smtp_loops counter\n");
        text.Append("# HELP abilisfast_smtp_loops mail loops caught since the start: over HOP-LIMIT (refused 554 5.4.6), next hop is this server (failed 5.4.6)\n");
        Sample(text, "abilisfast_smtp_loops_total{detected=\"hop-limit\"}", snapshot.Loops.HopLimit);
        Sample(text, "abilisfast_smtp_loops_total{detected=\"loops-back\"}", snapshot.Loops.LoopBack);
        text.Append("# TYPE abilisfast_smtp_dsn_reports counter\n");
        text.Append("# HELP abilisfast_smtp_dsn_reports success (NOTIFY=SUCCESS) and delay (NOTIFY=DELAY) reports generated since the start; failure notifications are NOTIFY in d s smtp\n");
        Sample(text, "abilisfast_smtp_dsn_reports_total{report=\"success\"}", snapshot.Reports.Success);
        Sample(text, "abilisfast_smtp_dsn_reports_total{report=\"delay\"}", snapshot.Reports.Delay);
        text.Append("# TYPE abilisfast_smtp_dsn_recipients counter\n");
        text.Append("# HELP abilisfast_smtp_dsn_recipients recipients those reports gave, by their Action field, since the start\n");
        Sample(text, "abilisfast_smtp_dsn_recipients_total{action=\"delivered\"}", snapshot.Reports.Delivered);
        Sample(text, "abilisfast_smtp_dsn_recipients_total{action=\"relayed\"}", snapshot.Reports.Relayed);
        Sample(text, "abilisfast_smtp_dsn_recipients_total{action=\"delayed\"}", snapshot.Reports.Delayed);
        text.Append("# TYPE abilisfast_smtp_dsn_reports_done counter\n");
        text.Append("# HELP abilisfast_smtp_dsn_reports_done success and delay reports that left the queue, delivered or failed (an undeliverable report is dropped) since the start\n");
        Sample(text, "abilisfast_smtp_dsn_reports_done_total{result=\"delivered\"}", snapshot.Reports.Sent);
        Sample(text, "abilisfast_smtp_dsn_reports_done_total{result=\"failed\"}", snapshot.Reports.Failed);
        Gauge(text, "abilisfast_smtp_cleared_timestamp_seconds", "when the statistics were last cleared", snapshot.Counters.ClearedAt.ToUnixTimeSeconds());
        AppendProcess(text);
        text.Append("# EOF\n");
        return text.ToString();
    }

    /// <summary>The process's footprint: resident memory (from /proc/self/statm) and the managed heap.</summary>
    private static void AppendProcess(StringBuilder text)
    {
        if (ResidentBytes() is long resident)
        {
            Gauge(text, "process_resident_memory_bytes", "resident set size (RSS)", resident);
        }

        GCMemoryInfo gc = GC.GetGCMemoryInfo();
        Gauge(text, "abilisfast_gc_heap_bytes", "managed heap size at the last garbage collection", gc.HeapSizeBytes);
        Gauge(text, "abilisfast_gc_committed_bytes", "memory the garbage collector has committed", gc.TotalCommittedBytes);
        text.Append("# TYPE abilisfast_gc_collections counter\n");
        text.Append("# HELP abilisfast_gc_collections garbage collections since start, per generation\n");
        for (int generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            Sample(text, $"abilisfast_gc_collections_total{{generation=\"{generation}\"}}", GC.CollectionCount(generation));
        }
    }

    private static long? ResidentBytes()
    {
        try
        {
            // statm: size resident shared text lib data dt, in pages.
            string[] fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return fields.Length > 1 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long pages)
                ? pages * Environment.SystemPageSize
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void Gauge(StringBuilder text, string name, string help, long value)
    {
        text.Append("# TYPE ").Append(name).Append(" gauge\n");
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        Sample(text, name, value);
    }

    private static void Sample(StringBuilder text, string name, long value) =>
        text.Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
}
