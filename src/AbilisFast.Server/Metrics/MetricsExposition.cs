using System.Globalization;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Display;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Spool;

namespace AbilisFast.Server.Metrics;

/// <summary>Everything the metrics show, read once from a <see cref="SmtpContext"/>.</summary>
internal sealed record MetricsSnapshot(
    SmtpDisplaySnapshot Smtp,
    long? OldestQueuedUnixMs,
    SpoolUsage? Spool,
    HistogramSnapshot? CommitBatches,
    int? Banned,
    HistogramSnapshot Accept,
    HistogramSnapshot Delivery)
{
    public static MetricsSnapshot Take(SmtpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new MetricsSnapshot(
            SmtpDisplaySnapshot.Take(context),
            context.Queue.OldestReceivedUnixMs(),
            context.Spool?.Usage(),
            context.Spool?.CommitBatches.Snapshot(),
            (context.Bans as Access.IpBanService)?.BannedCount,
            context.Metrics.AcceptLatency.Snapshot(),
            context.Metrics.DeliveryDelay.Snapshot());
    }
}

/// <summary>
/// The one place that turns the server's state into metric families: the console's <c>d m smtp</c>
/// (OpenMetrics) and the metrics port's <c>GET /metrics</c> (Prometheus text 0.0.4) both print what
/// <see cref="Write"/> writes, through a <see cref="MetricsWriter"/> in their format.
/// </summary>
internal static class MetricsExposition
{
    public static string Format(MetricsSnapshot snapshot, MetricsFormat format)
    {
        var writer = new MetricsWriter(format);
        Write(writer, snapshot);
        return writer.ToString();
    }

    public static void Write(MetricsWriter w, MetricsSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(snapshot);
        SmtpDisplaySnapshot smtp = snapshot.Smtp;
        w.Gauge("abilisfast_smtp_active", "1 when the resource is ACTIVE (ACT:YES)", smtp.Active ? 1 : 0);
        w.Gauge("abilisfast_smtp_sessions", "CUR-SES: sessions in progress", smtp.CurrentSessions);
        w.Gauge("abilisfast_smtp_channels_active", "ACTIVE-RES-IN, ACTIVE-RES-OUT, ACTIVE-MIX-IN, ACTIVE-MIX-OUT")
            .Sample("abilisfast_smtp_channels_active", "pool=\"reserved\",direction=\"in\"", smtp.ActiveResIn)
            .Sample("abilisfast_smtp_channels_active", "pool=\"reserved\",direction=\"out\"", smtp.ActiveResOut)
            .Sample("abilisfast_smtp_channels_active", "pool=\"mix\",direction=\"in\"", smtp.ActiveMixIn)
            .Sample("abilisfast_smtp_channels_active", "pool=\"mix\",direction=\"out\"", smtp.ActiveMixOut);
        WriteChannelStates(w, smtp);
        w.Gauge("abilisfast_smtp_queue", "QUEUE-OUT and QUEUE-DEFER")
            .Sample("abilisfast_smtp_queue", "queue=\"out\"", smtp.QueueOut)
            .Sample("abilisfast_smtp_queue", "queue=\"defer\"", smtp.QueueDefer);
        double oldest = snapshot.OldestQueuedUnixMs is long at ? Math.Max(0, smtp.Now.ToUnixTimeMilliseconds() - at) / 1000.0 : 0;
        w.Gauge("abilisfast_smtp_queue_oldest_age_seconds", "age of the oldest message in QUEUE-OUT or QUEUE-DEFER; 0 when both are empty", oldest);
        if (snapshot.Spool is { } spool)
        {
            w.Gauge("abilisfast_spool_messages", "messages the spool holds (queued, deferred or being delivered)", spool.Messages);
            w.Gauge("abilisfast_spool_message_bytes", "bytes of message text the spool holds", spool.MessageBytes);
            w.Gauge("abilisfast_spool_segments", "spool segment files", spool.Segments);
            w.Gauge("abilisfast_spool_segment_bytes", "size of the spool segment files on disk (preallocated)", spool.SegmentBytes);
        }

        if (snapshot.Banned is int banned)
        {
            w.Gauge("abilisfast_ipban_banned", "addresses banned now (the IPBAN list size)", banned);
        }

        w.Counter("abilisfast_smtp_events_total", "The Abilis counters (d s smtp) since the last clear");
        foreach (SmtpCounter counter in Enum.GetValues<SmtpCounter>())
        {
            foreach (Direction direction in (ReadOnlySpan<Direction>)[Direction.In, Direction.Out])
            {
                if (smtp.Counters[counter, direction] is long value)
                {
                    w.Sample("abilisfast_smtp_events_total", CounterLabels(null, counter, direction), value);
                }
            }
        }

        WriteChannelCounters(w, smtp);
        w.Counter("abilisfast_smtp_in_timeouts_total", "inbound sessions ended by a deadline since the start", "deadline",
            ("DT", smtp.Timeouts.Idle), ("DATA-TIMEOUT", smtp.Timeouts.DataDeadline), ("MIN-DATA-RATE", smtp.Timeouts.DataRate));
        w.Counter("abilisfast_smtp_loops_total", "mail loops caught since the start: over HOP-LIMIT (refused 554 5.4.6), next hop is this server (failed 5.4.6)", "detected",
            ("hop-limit", smtp.Loops.HopLimit), ("loops-back", smtp.Loops.LoopBack));
        w.Counter("abilisfast_smtp_rcpt_refused_total", "recipients refused at RCPT since the start, by reason (unknown-local: 550 5.1.1, no such mailbox here)", "reason",
            ("unknown-local", smtp.UnknownLocalRecipients));
        w.Counter("abilisfast_smtp_dsn_reports_total", "success (NOTIFY=SUCCESS) and delay (NOTIFY=DELAY) reports generated since the start; failure notifications are NOTIFY in d s smtp", "report",
            ("success", smtp.Reports.Success), ("delay", smtp.Reports.Delay));
        w.Counter("abilisfast_smtp_dsn_recipients_total", "recipients those reports gave, by their Action field, since the start", "action",
            ("delivered", smtp.Reports.Delivered), ("relayed", smtp.Reports.Relayed), ("delayed", smtp.Reports.Delayed));
        w.Counter("abilisfast_smtp_dsn_reports_done_total", "success and delay reports that left the queue, delivered or failed (an undeliverable report is dropped) since the start", "result",
            ("delivered", smtp.Reports.Sent), ("failed", smtp.Reports.Failed));
        w.Histogram("abilisfast_smtp_accept_duration_seconds", "end of the message text to the reply (spool write and fsync included)", snapshot.Accept);
        w.Histogram("abilisfast_delivery_delay_seconds", "acceptance to delivery, per recipient delivered (queue time and retries included)", snapshot.Delivery);
        if (snapshot.CommitBatches is { } batches)
        {
            w.Histogram("abilisfast_spool_commit_batch_size", "messages made durable per group-commit round", batches);
        }

        w.Gauge("abilisfast_smtp_cleared_timestamp_seconds", "when the statistics were last cleared", smtp.Counters.ClearedAt.ToUnixTimeSeconds());
        WriteProcess(w);
    }

    /// <summary>Every channel by its direction and SMTP state (idle channels show as READY): the sessions by state.</summary>
    private static void WriteChannelStates(MetricsWriter w, SmtpDisplaySnapshot smtp)
    {
        SmtpState[] states = Enum.GetValues<SmtpState>();
        var counts = new int[2, states.Length];
        foreach (SmtpChannelRow row in smtp.Channels)
        {
            int state = Array.IndexOf(states, row.SmtpState);
            if (state >= 0)
            {
                counts[row.Direction == Direction.In ? 0 : 1, state]++;
            }
        }

        w.Gauge("abilisfast_smtp_channel_states", "channels by direction and SMTP state, as d de smtp shows them (idle: READY)");
        for (int d = 0; d < 2; d++)
        {
            for (int s = 0; s < states.Length; s++)
            {
                string label = states[s].Label();
                if (label == "UNDEFINED")
                {
                    continue;
                }

                w.Sample("abilisfast_smtp_channel_states", MetricsWriter.Labels(("direction", d == 0 ? "in" : "out"), ("state", label)), counts[d, s]);
            }
        }
    }

    /// <summary>The per-channel counters of <c>d se smtp</c>; channels whose counters are all zero are left out.</summary>
    private static void WriteChannelCounters(MetricsWriter w, SmtpDisplaySnapshot smtp)
    {
        w.Counter("abilisfast_smtp_channel_events_total", "The Abilis counters per channel (d se smtp); channels with no event are left out");
        foreach (SmtpChannelRow row in smtp.Channels)
        {
            bool any = false;
            foreach (SmtpCounter counter in Enum.GetValues<SmtpCounter>())
            {
                any |= row.Counters[counter, Direction.In] is > 0 || row.Counters[counter, Direction.Out] is > 0;
            }

            if (!any)
            {
                continue;
            }

            foreach (SmtpCounter counter in Enum.GetValues<SmtpCounter>())
            {
                if (counter is SmtpCounter.DeniedIp or SmtpCounter.BannedIp)
                {
                    continue; // resource-only rows (d se shows them for the resource, not per channel)
                }

                foreach (Direction direction in (ReadOnlySpan<Direction>)[Direction.In, Direction.Out])
                {
                    if (row.Counters[counter, direction] is long value)
                    {
                        w.Sample("abilisfast_smtp_channel_events_total", CounterLabels(row.Number, counter, direction), value);
                    }
                }
            }
        }
    }

    private static string CounterLabels(int? channel, SmtpCounter counter, Direction direction)
    {
        string label = SmtpCounterInfo.Label(counter);
        string dir = direction == Direction.In ? "in" : "out";
        return channel is int number
            ? MetricsWriter.Labels(("channel", number.ToString(CultureInfo.InvariantCulture)), ("counter", label), ("direction", dir))
            : MetricsWriter.Labels(("counter", label), ("direction", dir));
    }

    /// <summary>The process's footprint: resident memory (from /proc/self/statm) and the managed heap.</summary>
    private static void WriteProcess(MetricsWriter w)
    {
        if (ResidentBytes() is long resident)
        {
            w.Gauge("process_resident_memory_bytes", "resident set size (RSS)", resident);
        }

        GCMemoryInfo gc = GC.GetGCMemoryInfo();
        w.Gauge("abilisfast_gc_heap_bytes", "managed heap size at the last garbage collection", gc.HeapSizeBytes);
        w.Gauge("abilisfast_gc_committed_bytes", "memory the garbage collector has committed", gc.TotalCommittedBytes);
        w.Counter("abilisfast_gc_collections_total", "garbage collections since start, per generation");
        for (int generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            w.Sample("abilisfast_gc_collections_total", MetricsWriter.Labels(("generation", generation.ToString(CultureInfo.InvariantCulture))), GC.CollectionCount(generation));
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
}
