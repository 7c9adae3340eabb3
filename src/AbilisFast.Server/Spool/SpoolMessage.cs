namespace AbilisFast.Server.Spool;

/// <summary>A body fragment with its live segment object.</summary>
internal readonly record struct StoredFragment(SpoolSegment Segment, long Offset, int Length);

/// <summary>In-memory index entry of a committed, live message. Guarded by the spool lock.</summary>
internal sealed class SpoolMessage(uint id, long bodyLength, StoredFragment[] fragments, List<SpoolSegment> segments, byte[] envelope)
{
    public uint Id { get; } = id;

    /// <summary>The envelope as committed (the caller's opaque bytes), kept for the delivery side and the console.</summary>
    public byte[] Envelope { get; } = envelope;

    public long BodyLength { get; } = bodyLength;

    public StoredFragment[] Fragments { get; } = fragments;

    /// <summary>Distinct segments holding any record of the message (data, commit, retry); each counts it as live.</summary>
    public List<SpoolSegment> Segments { get; } = segments;
}
