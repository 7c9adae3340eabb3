using System.Globalization;

namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// A Prometheus histogram with fixed buckets, cheap enough for the hot path: an observation is a
/// short scan of the bucket bounds (a dozen at most), one Interlocked increment of the bucket's
/// count and one Interlocked add to the sum; nothing is allocated. Each count and the sum sit on
/// their own 64-byte cache line, so threads observing at once do not fight over one line. Values
/// are kept in a raw integer unit (Stopwatch ticks, milliseconds, messages) and converted to the
/// base unit (seconds, messages) only when the histogram is written out.
/// </summary>
internal sealed class Histogram
{
    private const int Stride = 8; // longs per cache line

    private readonly long[] _rawBounds;
    private readonly long[] _cells; // line 0 padding, lines 1..n+1 the bucket counts (last = +Inf), then the sum
    private readonly double _rawPerUnit;

    /// <param name="upperBounds">The bucket bounds in the base unit, ascending (+Inf is implied).</param>
    /// <param name="rawPerUnit">Raw units per base unit (Stopwatch.Frequency for seconds from ticks, 1 for counts).</param>
    public Histogram(double[] upperBounds, double rawPerUnit)
    {
        ArgumentNullException.ThrowIfNull(upperBounds);
        if (upperBounds.Length == 0 || rawPerUnit <= 0)
        {
            throw new ArgumentException("a histogram needs bounds and a positive unit", nameof(upperBounds));
        }

        UpperBounds = upperBounds;
        _rawPerUnit = rawPerUnit;
        _rawBounds = new long[upperBounds.Length];
        BoundLabels = new string[upperBounds.Length];
        for (int i = 0; i < upperBounds.Length; i++)
        {
            if (i > 0 && upperBounds[i] <= upperBounds[i - 1])
            {
                throw new ArgumentException("bucket bounds must ascend", nameof(upperBounds));
            }

            _rawBounds[i] = (long)Math.Floor(upperBounds[i] * rawPerUnit);
            BoundLabels[i] = upperBounds[i].ToString(CultureInfo.InvariantCulture);
        }

        _cells = new long[(upperBounds.Length + 3) * Stride];
    }

    /// <summary>Bucket bounds in the base unit (without +Inf).</summary>
    public IReadOnlyList<double> UpperBounds { get; }

    /// <summary>The <c>le</c> label of each bound, formatted once.</summary>
    public string[] BoundLabels { get; }

    private int SumCell => (_rawBounds.Length + 2) * Stride;

    /// <summary>Counts one value (raw unit) in the first bucket whose bound is at least it.</summary>
    public void Observe(long raw)
    {
        long[] bounds = _rawBounds;
        int bucket = 0;
        while (bucket < bounds.Length && raw > bounds[bucket])
        {
            bucket++;
        }

        Interlocked.Increment(ref _cells[(bucket + 1) * Stride]);
        Interlocked.Add(ref _cells[SumCell], raw);
    }

    /// <summary>
    /// The cumulative counts (one per bound, then +Inf), the count and the sum in the base unit.
    /// Each cell is read atomically; an observation in flight may show in a count and not yet in
    /// the sum, never the other way round in a way a scrape could notice.
    /// </summary>
    public HistogramSnapshot Snapshot()
    {
        var cumulative = new long[_rawBounds.Length + 1];
        long running = 0;
        for (int i = 0; i < cumulative.Length; i++)
        {
            running += Volatile.Read(ref _cells[(i + 1) * Stride]);
            cumulative[i] = running;
        }

        return new HistogramSnapshot(BoundLabels, cumulative, Volatile.Read(ref _cells[SumCell]) / _rawPerUnit);
    }
}

/// <summary>A histogram as read at one scrape: cumulative bucket counts (the last is +Inf = the count) and the sum.</summary>
internal sealed record HistogramSnapshot(string[] BoundLabels, long[] Cumulative, double Sum)
{
    public long Count => Cumulative[^1];
}
