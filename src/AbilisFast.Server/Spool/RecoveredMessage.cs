namespace AbilisFast.Server.Spool;

/// <summary>Where one body fragment lives: segment number, file offset of the payload, payload length.</summary>
internal readonly record struct FragmentLocation(int Segment, long Offset, int Length);

/// <summary>A committed, not yet done message found by recovery.</summary>
internal sealed class RecoveredMessage(
    uint id,
    byte[] envelope,
    long bodyLength,
    IReadOnlyList<FragmentLocation> fragments,
    byte[]? lastRetry,
    DateTimeOffset commitTime)
{
    public uint Id { get; } = id;

    public string IdText => SpoolIds.Format(Id);

    public byte[] Envelope { get; } = envelope;

    public long BodyLength { get; } = bodyLength;

    public IReadOnlyList<FragmentLocation> Fragments { get; } = fragments;

    /// <summary>Payload of the last Retry record written for this message, if any.</summary>
    public byte[]? LastRetry { get; } = lastRetry;

    public DateTimeOffset CommitTime { get; } = commitTime;
}
