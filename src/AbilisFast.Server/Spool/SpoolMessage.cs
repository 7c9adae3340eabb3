namespace AbilisFast.Server.Spool;

/// <summary>A body fragment with its live segment object.</summary>
internal readonly record struct StoredFragment(SpoolSegment Segment, long Offset, int Length);

/// <summary>
/// In-memory index entry of a committed, live message. Guarded by the spool lock. Kept small because
/// a held or deferred queue may hold tens of thousands: the first fragment and the first segment sit
/// in the object itself (a message up to one fragment long, the usual case, needs no array), and the
/// envelope stays on disk in its Commit record (<see cref="EnvelopeAt"/>), read back when asked for.
/// </summary>
internal sealed class SpoolMessage
{
    private readonly StoredFragment _firstFragment;
    private readonly StoredFragment[]? _moreFragments;
    private readonly SpoolSegment _firstSegment;
    private SpoolSegment[]? _moreSegments;

    /// <param name="fragments">The body fragments in order.</param>
    /// <param name="segments">The distinct segments holding any record of the message (at least the commit's).</param>
    public SpoolMessage(uint id, long bodyLength, IReadOnlyList<StoredFragment> fragments, IReadOnlyList<SpoolSegment> segments, StoredFragment envelopeAt)
    {
        Id = id;
        BodyLength = bodyLength;
        EnvelopeAt = envelopeAt;
        FragmentCount = fragments.Count;
        if (fragments.Count > 0)
        {
            _firstFragment = fragments[0];
        }

        if (fragments.Count > 1)
        {
            _moreFragments = new StoredFragment[fragments.Count - 1];
            for (int i = 1; i < fragments.Count; i++)
            {
                _moreFragments[i - 1] = fragments[i];
            }
        }

        _firstSegment = segments[0];
        if (segments.Count > 1)
        {
            _moreSegments = new SpoolSegment[segments.Count - 1];
            for (int i = 1; i < segments.Count; i++)
            {
                _moreSegments[i - 1] = segments[i];
            }
        }
    }

    public uint Id { get; }

    public long BodyLength { get; }

    /// <summary>Where the envelope bytes (as committed, the caller's opaque format) are in the Commit record.</summary>
    public StoredFragment EnvelopeAt { get; }

    public int FragmentCount { get; }

    public StoredFragment Fragment(int index) => index == 0 ? _firstFragment : _moreFragments![index - 1];

    /// <summary>Number of distinct segments holding any record of the message (data, commit, retry); each counts it as live.</summary>
    public int SegmentCount => 1 + (_moreSegments?.Length ?? 0);

    public SpoolSegment Segment(int index) => index == 0 ? _firstSegment : _moreSegments![index - 1];

    /// <summary>Adds a segment a later record (retry) went to; false when the message already counts it.</summary>
    public bool AddSegment(SpoolSegment segment)
    {
        for (int i = 0; i < SegmentCount; i++)
        {
            if (ReferenceEquals(Segment(i), segment))
            {
                return false;
            }
        }

        SpoolSegment[] more = new SpoolSegment[SegmentCount];
        _moreSegments?.CopyTo(more, 0);
        more[^1] = segment;
        _moreSegments = more;
        return true;
    }

    public SpoolSegment[] CopySegments()
    {
        var copy = new SpoolSegment[SegmentCount];
        for (int i = 0; i < copy.Length; i++)
        {
            copy[i] = Segment(i);
        }

        return copy;
    }
}
