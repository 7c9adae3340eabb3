using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace AbilisFast.Server.Transport;

/// <summary>
/// A pipe writer straight over a connected, non-blocking socket, for the plaintext part of a
/// session. Replies collect in one pooled block (a larger one-off buffer for a larger write); a
/// flush sends them with a plain non-blocking send, which on a healthy connection takes all of
/// them at once, and only when the socket's send buffer is full does it wait with an asynchronous
/// send. After a flush the block goes back to the pool: a waiting session holds no send buffer,
/// and one whose sends never had to wait never made the socket's asynchronous send state either.
/// </summary>
internal sealed class SocketPipeWriter : PipeWriter
{
    private readonly Socket _socket;
    private readonly MemoryPool<byte> _pool;
    private IMemoryOwner<byte>? _owner;
    private Memory<byte> _memory;
    private int _length;
    private bool _completed;

    public SocketPipeWriter(Socket socket, MemoryPool<byte> pool)
    {
        _socket = socket;
        _pool = pool;
    }

    /// <summary>True when this writer holds a buffer (replies written and not yet flushed).</summary>
    internal bool HoldsBuffer => _owner is not null;

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _length;

    public override void Advance(int bytes)
    {
        if ((uint)bytes > (uint)(_memory.Length - _length))
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "advanced past the buffer");
        }

        _length += bytes;
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        int needed = Math.Max(sizeHint, 1);
        if (_memory.Length - _length < needed)
        {
            Grow(needed);
        }

        return _memory[_length..];
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    private void Grow(int needed)
    {
        IMemoryOwner<byte> bigger = _pool.Rent(_owner is null ? needed : Math.Max(_memory.Length * 2, _length + needed));
        _memory[.._length].CopyTo(bigger.Memory);
        _owner?.Dispose();
        _owner = bigger;
        _memory = bigger.Memory;
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        int sent = 0;
        while (sent < _length)
        {
            int n = _socket.Send(_memory.Span[sent.._length], SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                return SendRestAsync(sent, cancellationToken);
            }

            if (error != SocketError.Success)
            {
                Release();
                throw new IOException($"send failed: {error}", new SocketException((int)error));
            }

            sent += n;
        }

        Release();
        return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false));
    }

    /// <summary>The socket's send buffer is full: the rest goes out asynchronously.</summary>
    private async ValueTask<FlushResult> SendRestAsync(int sent, CancellationToken cancellationToken)
    {
        try
        {
            while (sent < _length)
            {
                sent += await _socket.SendAsync(_memory[sent.._length], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (SocketException e)
        {
            throw new IOException(e.Message, e);
        }
        finally
        {
            Release();
        }

        return new FlushResult(isCanceled: false, isCompleted: false);
    }

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        Release();
    }

    private void Release()
    {
        _length = 0;
        if (_owner is not null)
        {
            _owner.Dispose();
            _owner = null;
            _memory = default;
        }
    }
}
