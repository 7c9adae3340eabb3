using System.Buffers;
using System.Buffers.Binary;

namespace AbilisFast.Server.Spool;

/// <summary>
/// Writes one message: body bytes are buffered and flushed as Data records of up to FragmentSize bytes;
/// <see cref="CommitAsync"/> appends the Commit record (together with the last fragment when it fits)
/// and completes once the group commit made it durable. Pooled: dispose after the commit was awaited.
/// </summary>
internal sealed partial class SpoolWriter : IDisposable
{
    /// <summary>Room after the last fragment for an inline Commit record with a typical envelope.</summary>
    private const int InlineCommitRoom = 2048;

    private readonly SpoolStore _spool;
    private readonly int _fragmentSize;
    private byte[]? _buffer;
    private int _fill;
    private uint _seq;
    private int _pendingFragment;
    private WriterState _state = WriterState.Idle;

    internal SpoolWriter(SpoolStore spool)
    {
        _spool = spool;
        _fragmentSize = spool.Options.FragmentSize;
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

    // Commit in flight: offset of the Commit record within the appended records, and the envelope length.
    private int _commitRecordAt = -1;
    private int _envelopeLength;

    internal void Start(uint id)
    {
        Id = id;
        Length = 0;
        _fill = 0;
        _seq = 0;
        _pendingFragment = 0;
        Fragments.Clear();
        Segments.Clear();
        EnvelopeAt = default;
        _commitRecordAt = -1;
        _buffer = ArrayPool<byte>.Shared.Rent(SpoolRecord.SizeOf(_fragmentSize) + InlineCommitRoom);
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
                FlushFragment();
            }

            int n = Math.Min(_fragmentSize - _fill, body.Length);
            body[..n].CopyTo(_buffer.AsSpan(SpoolRecord.HeaderSize + _fill));
            _fill += n;
            Length += n;
            body = body[n..];
        }
    }

    private void FlushFragment()
    {
        int size = SealFragment();
        Append(_buffer.AsSpan(0, size), commit: false);
    }

    /// <summary>Seals the buffered fragment as a Data record at the start of the buffer; returns its size.</summary>
    private int SealFragment()
    {
        if (_fill == 0)
        {
            _pendingFragment = 0;
            return 0;
        }

        int size = SpoolRecord.SizeOf(_fill);
        SpoolRecord.Seal(_buffer.AsSpan(0, size), SpoolRecordType.Data, Id, _seq, _fill, _spool.Seed);
        _pendingFragment = _fill;
        return size;
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

        if (_pendingFragment > 0)
        {
            Fragments.Add(new StoredFragment(segment, offset + SpoolRecord.HeaderSize, _pendingFragment));
            _pendingFragment = 0;
            _seq++;
            _fill = 0;
        }
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
    /// Where the commit record goes: right after the last fragment in the buffer when both fit (that
    /// fragment sealed there, <paramref name="fragmentSize"/> its size: one write for both), else a
    /// rented array of its own, <paramref name="extra"/> (the fragment written first).
    /// </summary>
    private Span<byte> CommitTarget(int commitSize, out int fragmentSize, out byte[]? extra)
    {
        extra = null;
        fragmentSize = _fill > 0 ? SpoolRecord.SizeOf(_fill) : 0;
        if (fragmentSize + commitSize <= _buffer!.Length)
        {
            fragmentSize = SealFragment();
            return _buffer.AsSpan(fragmentSize, commitSize);
        }

        if (_fill > 0)
        {
            FlushFragment();
        }

        fragmentSize = 0;
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
