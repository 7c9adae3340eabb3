using System.Numerics;

namespace AbilisFast.Load;

/// <summary>
/// Latencies in microseconds, recorded into fixed log-linear buckets (HdrHistogram's layout with
/// 64 sub-buckets per power of two, so a reported value is within 1/64 of the true one). Recording
/// is an index computation and one increment: no allocation per sample. One instance per session,
/// written by that session only; the run merges them at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int Linear = 128;     // values below this have a bucket each
    private const int SubBuckets = 64;  // buckets per power of two above it
    private const int MaxMagnitude = 40; // 2^40 µs is about 12 days

    private readonly long[] _counts = new long[Linear + ((MaxMagnitude - 7 + 1) * SubBuckets)];

    public long Count { get; private set; }

    /// <summary>Adds one sample of <paramref name="micros"/> microseconds.</summary>
    public void Record(long micros)
    {
        _counts[IndexOf(micros)]++;
        Count++;
    }

    /// <summary>Adds every sample of <paramref name="other"/>.</summary>
    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
    }

    /// <summary>
    /// The value at <paramref name="percentile"/> (0..100) in microseconds: the highest value that
    /// falls in the bucket holding that rank (as HdrHistogram reports it); 0 when empty.
    /// </summary>
    public long ValueAt(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(percentile / 100.0 * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return HighestIn(i);
            }
        }

        return HighestIn(_counts.Length - 1);
    }

    internal static int IndexOf(long micros)
    {
        if (micros < Linear)
        {
            return micros < 0 ? 0 : (int)micros;
        }

        int magnitude = BitOperations.Log2((ulong)micros); // >= 7
        if (magnitude > MaxMagnitude)
        {
            magnitude = MaxMagnitude;
            micros = (1L << (MaxMagnitude + 1)) - 1;
        }

        int sub = (int)(micros >> (magnitude - 6)); // 64..127
        return Linear + ((magnitude - 7) * SubBuckets) + (sub - SubBuckets);
    }

    internal static long HighestIn(int index)
    {
        if (index < Linear)
        {
            return index;
        }

        int magnitude = ((index - Linear) / SubBuckets) + 7;
        long sub = ((index - Linear) % SubBuckets) + SubBuckets;
        int shift = magnitude - 6;
        return ((sub + 1) << shift) - 1;
    }
}
