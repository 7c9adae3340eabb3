using System.Buffers;
using System.Buffers.Binary;

namespace AbilisFast.Server.Spool;

/// <summary>
/// Writes one message: body bytes are buffered as Data records of up to FragmentSize bytes;
/// <see cref="CommitAsync"/> appends the Commit record (together with the last fragment when it fits)
/// and completes once the group commit made it durable. A body that outgrows its first fragment
/// moves to a batch buffer (<see cref="BatchBytes"/>): its sealed records go out in one pwrite per
/// batch, and the kernel is asked to start writing each batch back at once (sync_file_range), so
/// the fdatasync before the 250 finds little left to write. Pooled: dispose after the commit was awaited.
/// </summary>
internal sealed partial class SpoolWriter : IDisposable
{
    /// <summary>Room after the last fragment for an inline Commit record with a typical envelope.</summary>
    private const int InlineCommitRoom = 2048;

    /// <summary>Sealed Data records gathered before one pwrite once a body is larger than one fragment.</summary>
    internal const int BatchBytes = 256 * 1024;

    private readonly SpoolStore _spool;
    private readonly int _fragmentSize;
    private readonly int _recordSize;

    /// <summary>Whole records per batch; 1 (no batching) when a segment is too small for batches.</summary>
    private readonly int _batchRecords;

    /// <summary>The most one append may carry: what fits in an empty segment.</summary>
    private readonly int _maxAppend;

    private byte[]? _buffer;
    private bool _batching;

    /// <summary>Bytes (and count) of sealed Data records at the start of the buffer, not yet written.</summary>
    private int _sealed;
    private int _sealedRecords;

    /// <summary>Payload bytes of the fragment being filled, at _buffer[_sealed + HeaderSize..].</summary>
    private int _fill;

    /// <summary>Data records sealed so far (the next one's sequence number).</summary>
    private uint _seq;

    // The append in flight: its full records and the payload of a last shorter one (0: none).
    private int _appendRecords;
    private int _appendPartial;
    private SpoolSegment? _appendSegment;
    private long _appendOffset;
    private WriterState _state = WriterState.Idle;

    internal SpoolWriter(SpoolStore spool)
    {
        _spool = spool;
        _fragmentSize = spool.Options.FragmentSize;
        _recordSize = SpoolRecord.SizeOf(_fragmentSize);
        long segmentRoom = spool.Options.SegmentSize - SpoolStore.SegmentHeaderSize;
        _maxAppend = (int)Math.Min(int.MaxValue, segmentRoom);

        // A batch takes at most 1/64 of a segment, so that the room a roll leaves unused stays small
        // (the 16 MiB segments of the server take full batches; small test spools write per fragment).
        _batchRecords = (int)Math.Clamp(Math.Min(BatchBytes, segmentRoom / 64) / _recordSize, 1, int.MaxValue);
    }

    private enum WriterState
    {
        Idle,
        Open,
        Committing,
        Committed,
        Failed,
        Aborted,
    }

    public uint Id { get; private set; }

    /// <summary>Body bytes written so far.</summary>
    public long Length { get; private set; }

    internal List<StoredFragment> Fragments { get; } = [];

    /// <summary>Distinct segments this writer appended to; each is pinned until commit or abort.</summary>
    internal List<SpoolSegment> Segments { get; } = [];

    internal long CommitLsn { get; set; }

    /// <summary>Where the envelope given to <see cref="CommitAsync"/> landed (set when the Commit record is appended).</summary>
    internal StoredFragment EnvelopeAt { get; private set; }

    /// <summary>Data records appended before the commit (pwrites of whole batches or single fragments).</summary>
    internal int DataAppends { get; private set; }

    // Commit in flight: offset of the Commit record within the appended records, and the envelope length.
    private int _commitRecordAt = -1;
    private int _envelopeLength;

    internal void Start(uint id)
    {
        Id = id;
        Length = 0;
        _fill = 0;
        _seq = 0;
        _sealed = 0;
        _sealedRecords = 0;
        _appendRecords = 0;
        _appendPartial = 0;
        _appendSegment = null;
        DataAppends = 0;
        Fragments.Clear();
        Segments.Clear();
        EnvelopeAt = default;
        _commitRecordAt = -1;
        _batching = false;
        _buffer = ArrayPool<byte>.Shared.Rent(_recordSize + InlineCommitRoom);
        _state = WriterState.Open;
    }

    public void Write(ReadOnlySpan<byte> body)
    {
        if (_state != WriterState.Open)
        {
            throw new InvalidOperationException($"spool writer is {_state}.");
        }

        while (!body.IsEmpty)
        {
            if (_fill == _fragmentSize)
            {
                SealFullFragment();
            }

            int n = Math.Min(_fragmentSize - _fill, body.Length);
            body[..n].CopyTo(_buffer.AsSpan(_sealed + SpoolRecord.HeaderSize + _fill));
            _fill += n;
            Length += n;
            body = body[n..];
        }
    }

    /// <summary>
    /// Seals the full fragment and makes room for the next one: the first time, by moving to the batch
    /// buffer; later, by writing the batch once it holds <see cref="_batchRecords"/> records.
    /// </summary>
    private void SealFullFragment()
    {
        _sealed += SealAt(_sealed, _fill);
        _sealedRecords++;
        _fill = 0;
        if (_sealedRecords < (_batching ? _batchRecords : 1))
        {
            return;
        }

        if (!_batching && _batchRecords > 1)
        {
            MoveToBatchBuffer();
            return;
        }

        WriteSealed(partial: 0);
        StartWriteback();
    }

    private void MoveToBatchBuffer()
    {
        byte[] batch = ArrayPool<byte>.Shared.Rent((_batchRecords * _recordSize) + InlineCommitRoom);
        _buffer.AsSpan(0, _sealed).CopyTo(batch);
        ArrayPool<byte>.Shared.Return(_buffer!);
        _buffer = batch;
        _batching = true;
    }

    /// <summary>Seals <paramref name="payload"/> body bytes at <paramref name="at"/> as the next Data record; returns its size.</summary>
    private int SealAt(int at, int payload)
    {
        int size = SpoolRecord.SizeOf(payload);
        SpoolRecord.Seal(_buffer.AsSpan(at, size), SpoolRecordType.Data, Id, _seq, payload, _spool.Seed);
        _seq++;
        return size;
    }

    /// <summary>Appends the sealed records (the last one <paramref name="partial"/> bytes long when not 0) and empties the buffer.</summary>
    private void WriteSealed(int partial)
    {
        int bytes = _sealed;
        _appendRecords = partial > 0 ? _sealedRecords - 1 : _sealedRecords;
        _appendPartial = partial;
        Append(_buffer.AsSpan(0, bytes), commit: false);
        DataAppends++;
        _sealed = 0;
        _sealedRecords = 0;
    }

    /// <summary>
    /// Asks the kernel to start writing the batch just appended (not to wait for it): by the time the
    /// message ends most of it is on its way, and the fdatasync before the 250 is short. Best effort.
    /// </summary>
    private void StartWriteback()
    {
        if (_spool.Options.Fsync && _appendSegment is { } segment)
        {
            SpoolNative.StartWriteback(segment.Handle, _appendOffset, _batchRecords * _recordSize);
        }
    }

    private void Append(ReadOnlySpan<byte> records, bool commit)
    {
        try
        {
            _spool.AppendForWriter(this, records, commit);
        }
        catch
        {
            _state = WriterState.Failed;
            throw;
        }
    }

    /// <summary>Called under the spool lock right after the pwrite of <see cref="Append"/> succeeded.</summary>
    internal void OnAppendedLocked(SpoolSegment segment, long offset)
    {
        if (Segments.Count == 0 || !ReferenceEquals(Segments[^1], segment))
        {
            Segments.Add(segment);
            segment.Pins++;
        }

        if (_commitRecordAt >= 0)
        {
            EnvelopeAt = new StoredFragment(segment, offset + _commitRecordAt + SpoolRecord.HeaderSize + SpoolRecord.CommitPrefixSize, _envelopeLength);
        }

        long at = offset + SpoolRecord.HeaderSize;
        for (int i = 0; i < _appendRecords; i++, at += _recordSize)
        {
            Fragments.Add(new StoredFragment(segment, at, _fragmentSize));
        }

        if (_appendPartial > 0)
        {
            Fragments.Add(new StoredFragment(segment, at, _appendPartial));
        }

        _appendRecords = 0;
        _appendPartial = 0;
        _appendSegment = segment;
        _appendOffset = offset;
    }

    /// <summary>
    /// Appends the Commit record carrying <paramref name="envelope"/> and waits until it is durable.
    /// Cancellation is honoured only before the record is written; afterwards the commit always completes.
    /// </summary>
    public ValueTask CommitAsync(ReadOnlySpan<byte> envelope, CancellationToken cancellationToken = default)
    {
        if (_state != WriterState.Open)
        {
            return ValueTask.FromException(new InvalidOperationException($"spool writer is {_state}."));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        byte[]? extra = null;
        try
        {
            int commitPayload = SpoolRecord.CommitPrefixSize + envelope.Length;
            int commitSize = SpoolRecord.SizeOf(commitPayload);
            uint fragments = _seq + (_fill > 0 ? 1u : 0u);
            Span<byte> target = CommitTarget(commitSize, out int fragmentSize, out extra);
            Span<byte> payload = target[SpoolRecord.HeaderSize..];
            BinaryPrimitives.WriteInt64LittleEndian(payload, Length);
            BinaryPrimitives.WriteInt64LittleEndian(payload[8..], DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            envelope.CopyTo(payload[SpoolRecord.CommitPrefixSize..]);
            SpoolRecord.Seal(target, SpoolRecordType.Commit, Id, fragments, commitPayload, _spool.Seed);

            ReadOnlySpan<byte> records = extra is null ? _buffer!.AsSpan(0, fragmentSize + commitSize) : target;
            _commitRecordAt = fragmentSize;
            _envelopeLength = envelope.Length;
            _core.Reset();
            _state = WriterState.Committing;
            Append(records, commit: true);
        }
        catch (Exception ex)
        {
            _state = WriterState.Failed;
            ReleaseResources();
            return ValueTask.FromException(ex);
        }
        finally
        {
            if (extra is not null)
            {
                ArrayPool<byte>.Shared.Return(extra);
            }
        }

        ReturnBuffer();
        return new ValueTask(this, _core.Version);
    }

    /// <summary>
    /// Where the commit record goes: right after the sealed records still in the buffer (the last
    /// fragment sealed there; <paramref name="fragmentSize"/> their size: one write for all of them
    /// and the commit) when they fit, else at the start of the buffer once those were written, or in
    /// a rented array of its own (<paramref name="extra"/>) when the envelope is larger than the buffer.
    /// </summary>
    private Span<byte> CommitTarget(int commitSize, out int fragmentSize, out byte[]? extra)
    {
        extra = null;
        int partial = _fill;
        if (partial > 0)
        {
            _sealed += SealAt(_sealed, partial);
            _sealedRecords++;
            _fill = 0;
        }

        int room = Math.Min(_buffer!.Length, _maxAppend);
        fragmentSize = _sealed;
        if (fragmentSize + commitSize <= room)
        {
            _appendRecords = partial > 0 ? _sealedRecords - 1 : _sealedRecords;
            _appendPartial = partial;
            return _buffer.AsSpan(fragmentSize, commitSize);
        }

        if (fragmentSize > 0)
        {
            WriteSealed(partial);
        }

        fragmentSize = 0;
        if (commitSize <= room)
        {
            return _buffer.AsSpan(0, commitSize);
        }

        extra = ArrayPool<byte>.Shared.Rent(commitSize);
        return extra.AsSpan(0, commitSize);
    }

    /// <summary>Drops the message: nothing written so far becomes visible (uncommitted Data is ignored by recovery).</summary>
    public void Abort()
    {
        if (_state is WriterState.Open or WriterState.Failed)
        {
            _state = WriterState.Aborted;
            ReleaseResources();
        }
    }

    private void ReleaseResources()
    {
        ReturnBuffer();
        _spool.ReleaseWriter(this);
        Segments.Clear();
        Fragments.Clear();
    }

    private void ReturnBuffer()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    /// <summary>Aborts if not committed and returns the writer to the pool (unless a commit is still pending).</summary>
    public void Dispose()
    {
        Abort();
        if (_state is WriterState.Committed or WriterState.Aborted)
        {
            _state = WriterState.Idle;
            _spool.ReturnWriter(this);
        }
    }
}
