using System.Buffers.Binary;

namespace AbilisFast.Server.Spool;

internal readonly record struct SegmentScanResult(long Tail, bool Clean, bool Corrupt);

/// <summary>
/// Recovery state machine: validates records segment by segment and rebuilds per-message state.
/// A message survives only if its Data sequence is contiguous, matches the Commit's fragment count and
/// body length, and no Done record follows. Never throws on content.
/// </summary>
internal sealed class SpoolScan(SpoolStore spool)
{
    private readonly Dictionary<uint, ScanMessage> _messages = [];
    private readonly List<ScanMessage> _commitOrder = [];
    private readonly uint _seed = spool.Seed;
    private readonly Action<string>? _log = spool.Options.Log;

    public uint MaxId { get; private set; }

    public SegmentScanResult ScanSegment(SpoolSegment segment, ReadOnlySpan<byte> data)
    {
        int pos = SpoolStore.SegmentHeaderSize;
        bool corrupt = false;
        while (pos <= data.Length - SpoolRecord.HeaderSize)
        {
            if (TryReadMessageRecord(data, pos, out SpoolRecordView record))
            {
                Apply(segment, record, data);
                pos += record.TotalSize;
                continue;
            }

            if (!data[pos..].ContainsAnyExcept((byte)0))
            {
                return new SegmentScanResult(pos, Clean: true, corrupt);
            }

            int next = FindNext(data, pos + 8);
            if (next < 0)
            {
                _log?.Invoke($"spool: {segment.Path}: torn or invalid tail at offset {pos}; ignored");
                return new SegmentScanResult(pos, Clean: false, corrupt);
            }

            _log?.Invoke($"spool: {segment.Path}: invalid record at offset {pos}, resynchronised at {next}");
            corrupt = true;
            pos = next;
        }

        return new SegmentScanResult(pos, Clean: true, corrupt);
    }

    private bool TryReadMessageRecord(ReadOnlySpan<byte> data, int pos, out SpoolRecordView record)
        => SpoolRecord.TryRead(data, pos, _seed, out record) && record.Type != SpoolRecordType.SegmentHeader;

    private int FindNext(ReadOnlySpan<byte> data, int from)
    {
        for (int q = from; q <= data.Length - SpoolRecord.HeaderSize; q += 8)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(data[q..]) == SpoolRecord.Magic && TryReadMessageRecord(data, q, out _))
            {
                return q;
            }
        }

        return -1;
    }

    private ScanMessage Get(uint id)
    {
        if (!_messages.TryGetValue(id, out ScanMessage? m))
        {
            m = new ScanMessage(id);
            _messages.Add(id, m);
        }

        return m;
    }

    private void Apply(SpoolSegment segment, SpoolRecordView record, ReadOnlySpan<byte> data)
    {
        MaxId = Math.Max(MaxId, record.Id);
        ScanMessage m = Get(record.Id);
        ReadOnlySpan<byte> payload = data.Slice(record.PayloadOffset, record.PayloadLength);
        switch (record.Type)
        {
            case SpoolRecordType.Data when !m.Committed && !m.Done:
                if (record.Seq == 0)
                {
                    m.ResetAttempt();
                }

                if (m.Broken || record.Seq != (uint)m.Fragments.Count)
                {
                    m.Broken = true;
                }
                else
                {
                    m.Fragments.Add(new StoredFragment(segment, record.PayloadOffset, record.PayloadLength));
                    m.BodyBytes += record.PayloadLength;
                    m.AddSegment(segment);
                }

                break;

            case SpoolRecordType.Commit when !m.Committed && !m.Done && record.PayloadLength >= SpoolRecord.CommitPrefixSize:
                long bodyLength = BinaryPrimitives.ReadInt64LittleEndian(payload);
                long time = BinaryPrimitives.ReadInt64LittleEndian(payload[8..]);
                if (m.Broken || record.Seq != (uint)m.Fragments.Count || bodyLength != m.BodyBytes)
                {
                    _log?.Invoke($"spool: message {SpoolIds.Format(m.Id)} lost body fragments; dropped");
                    m.ResetAttempt();
                    break;
                }

                m.Committed = true;
                m.CommitTime = time;
                m.Envelope = payload[SpoolRecord.CommitPrefixSize..].ToArray();
                m.EnvelopeAt = new StoredFragment(segment, record.PayloadOffset + SpoolRecord.CommitPrefixSize, m.Envelope.Length);
                m.AddSegment(segment);
                _commitOrder.Add(m);
                break;

            case SpoolRecordType.Abort when !m.Committed:
                m.ResetAttempt();
                break;

            case SpoolRecordType.Retry when m.Committed && !m.Done:
                m.LastRetry = payload.ToArray();
                m.AddSegment(segment);
                break;

            case SpoolRecordType.Done:
                m.Done = true;
                m.DoneSegment = segment;
                break;
        }
    }

    /// <summary>Publishes live messages into <paramref name="index"/> and sets segment accounting.</summary>
    public List<RecoveredMessage> Finish(Dictionary<uint, SpoolMessage> index)
    {
        var recovered = new List<RecoveredMessage>();
        foreach (ScanMessage m in _commitOrder)
        {
            if (m.Done)
            {
                continue;
            }

            StoredFragment[] fragments = [.. m.Fragments];
            index[m.Id] = new SpoolMessage(m.Id, m.BodyBytes, fragments, m.Segments, m.EnvelopeAt);
            foreach (SpoolSegment segment in m.Segments)
            {
                segment.Live++;
            }

            var locations = new FragmentLocation[fragments.Length];
            for (int i = 0; i < fragments.Length; i++)
            {
                locations[i] = new FragmentLocation(fragments[i].Segment.Number, fragments[i].Offset, fragments[i].Length);
            }

            recovered.Add(new RecoveredMessage(m.Id, m.Envelope, m.BodyBytes, locations, m.LastRetry, ToTime(m.CommitTime)));
        }

        foreach (ScanMessage m in _messages.Values)
        {
            if (m.Done && m.DoneSegment is not null)
            {
                foreach (SpoolSegment segment in m.Segments)
                {
                    if (!ReferenceEquals(segment, m.DoneSegment))
                    {
                        m.DoneSegment.AddDoneTarget(segment);
                    }
                }
            }
        }

        return recovered;
    }

    private static DateTimeOffset ToTime(long unixMs)
        => unixMs is >= -62_135_596_800_000 and <= 253_402_300_799_999
            ? DateTimeOffset.FromUnixTimeMilliseconds(unixMs)
            : DateTimeOffset.UnixEpoch;

    private sealed class ScanMessage(uint id)
    {
        public uint Id { get; } = id;

        public List<StoredFragment> Fragments { get; } = [];

        public List<SpoolSegment> Segments { get; private set; } = [];

        public long BodyBytes { get; set; }

        public bool Broken { get; set; }

        public bool Committed { get; set; }

        public bool Done { get; set; }

        public SpoolSegment? DoneSegment { get; set; }

        public long CommitTime { get; set; }

        public byte[] Envelope { get; set; } = [];

        public StoredFragment EnvelopeAt { get; set; }

        public byte[]? LastRetry { get; set; }

        public void AddSegment(SpoolSegment segment)
        {
            if (Segments.Count == 0 || !ReferenceEquals(Segments[^1], segment))
            {
                Segments.Add(segment);
            }
        }

        public void ResetAttempt()
        {
            Fragments.Clear();
            Segments = [];
            BodyBytes = 0;
            Broken = false;
        }
    }
}
