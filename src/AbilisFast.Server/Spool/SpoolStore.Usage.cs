namespace AbilisFast.Server.Spool;

/// <summary>What the spool holds, for the metrics endpoint.</summary>
internal readonly record struct SpoolUsage(int Messages, long MessageBytes, int Segments, long SegmentBytes);

internal sealed partial class SpoolStore
{
    /// <summary>Messages made durable per group-commit round (one round = one fsync per dirty segment).</summary>
    internal Diagnostics.Histogram CommitBatches { get; } = Diagnostics.ServerMetrics.NewBatchHistogram();

    /// <summary>Live messages and their body bytes, and the segment files with their (preallocated) size on disk.</summary>
    public SpoolUsage Usage()
    {
        lock (_lock)
        {
            long bodies = 0;
            foreach (SpoolMessage message in _index.Values)
            {
                bodies += message.BodyLength;
            }

            long segmentBytes = 0;
            foreach (SpoolSegment segment in _segments)
            {
                segmentBytes += segment.Size;
            }

            return new SpoolUsage(_index.Count, bodies, _segments.Count, segmentBytes);
        }
    }
}
