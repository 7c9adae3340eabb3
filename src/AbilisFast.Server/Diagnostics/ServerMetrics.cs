using System.Diagnostics;

namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// The histograms the server fills as it works (the counters of <c>d s smtp</c> are kept in
/// <see cref="Diagnostics.SmtpCounters"/>; the group-commit batch sizes in the spool). Shared by
/// every session through the server context; written with Interlocked operations only.
/// </summary>
internal sealed class ServerMetrics
{
    /// <summary>Seconds from the end of the message text (the final dot or BDAT LAST) to the reply: the spool write and its fsync.</summary>
    public static readonly double[] AcceptBounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    /// <summary>Seconds from acceptance to the delivery of a recipient (queue time and retries included).</summary>
    public static readonly double[] DeliveryBounds = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400, 86400];

    /// <summary>Messages made durable by one group-commit round (one fsync per dirty segment).</summary>
    public static readonly double[] BatchBounds = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

    /// <summary>End of the message text to the 250 (or the refusal), in Stopwatch ticks.</summary>
    public Histogram AcceptLatency { get; } = new(AcceptBounds, Stopwatch.Frequency);

    /// <summary>Acceptance to delivery, per recipient delivered (locally or to the next hop), in milliseconds.</summary>
    public Histogram DeliveryDelay { get; } = new(DeliveryBounds, 1000);

    /// <summary>A histogram for group-commit batch sizes (the spool keeps its own).</summary>
    public static Histogram NewBatchHistogram() => new(BatchBounds, 1);

    /// <summary>Records the accept latency of a message whose text ended at <paramref name="startTimestamp"/> (Stopwatch).</summary>
    public void ObserveAccept(long startTimestamp) => AcceptLatency.Observe(Stopwatch.GetTimestamp() - startTimestamp);

    /// <summary>Records one recipient delivered <paramref name="delay"/> after the message was accepted.</summary>
    public void ObserveDelivery(TimeSpan delay) => DeliveryDelay.Observe(Math.Max(0, (long)delay.TotalMilliseconds));
}
