namespace AbilisFast.Server.Spool;

/// <summary>Read-only stream over a stored body; reads fragments in order with positional reads.</summary>
internal sealed class SpoolBodyStream : Stream
{
    private readonly SpoolStore _spool;
    private readonly SpoolMessage _message;
    private readonly SpoolSegment[] _pinned;
    private int _fragment;
    private int _inFragment;
    private long _position;
    private bool _disposed;

    internal SpoolBodyStream(SpoolStore spool, SpoolMessage message, SpoolSegment[] pinned)
    {
        _spool = spool;
        _message = message;
        _pinned = pinned;
    }

    public override bool CanRead => !_disposed;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _message.BodyLength;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!NextChunk(buffer.Length, out StoredFragment fragment, out int count))
        {
            return 0;
        }

        int read = RandomAccess.Read(fragment.Segment.Handle, buffer[..count], fragment.Offset + _inFragment);
        return Advance(read);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!NextChunk(buffer.Length, out StoredFragment fragment, out int count))
        {
            return 0;
        }

        int read = await RandomAccess.ReadAsync(fragment.Segment.Handle, buffer[..count], fragment.Offset + _inFragment, cancellationToken).ConfigureAwait(false);
        return Advance(read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private bool NextChunk(int wanted, out StoredFragment fragment, out int count)
    {
        int fragments = _message.FragmentCount;
        while (_fragment < fragments && _inFragment >= _message.Fragment(_fragment).Length)
        {
            _fragment++;
            _inFragment = 0;
        }

        if (wanted == 0 || _fragment >= fragments)
        {
            fragment = default;
            count = 0;
            return false;
        }

        fragment = _message.Fragment(_fragment);
        count = Math.Min(wanted, fragment.Length - _inFragment);
        return true;
    }

    private int Advance(int read)
    {
        if (read <= 0)
        {
            throw new IOException("spool: unexpected end of segment file while reading a body.");
        }

        _inFragment += read;
        _position += read;
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _spool.ReleaseBody(_pinned);
        }

        base.Dispose(disposing);
    }
}
