using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace AbilisFast.Server.Transport;

/// <summary>
/// A pipe reader straight over a connected socket, for the plaintext part of a session. It keeps the
/// unread bytes in one pooled block (a larger one-off buffer only when more than a block is unread)
/// and, when nothing is unread, gives the block back and waits with a zero-byte receive, as Kestrel
/// does: an idle session holds no buffer. Unlike a StreamPipeReader over a NetworkStream it needs no
/// stream, no cancellation token source and no state machine per pending read: a session waiting
/// for its next command holds this object and the socket's own receive operation, nothing else.
/// </summary>
/// <remarks>
/// One read at a time (the session's read loop). <see cref="CancelPendingRead"/> may come from any
/// thread (the heartbeat, a shutdown): the pending read returns at once as canceled, and the socket
/// receive it started goes on; its bytes are kept for the next read.
/// </remarks>
internal sealed class SocketPipeReader : PipeReader, IValueTaskSource<ReadResult>
{
    /// <summary>Below this much free room after the unread bytes, the bytes are moved down or the buffer grown before a receive.</summary>
    private const int MinimumReadSize = 1024;

    private readonly Socket _socket;
    private readonly MemoryPool<byte> _pool;
    private readonly Action _onReceived;
    private IMemoryOwner<byte>? _owner;
    private Memory<byte> _memory;

    /// <summary>The unread bytes are _memory[_start.._end].</summary>
    private int _start;
    private int _end;

    /// <summary>The last AdvanceTo examined every unread byte: the next read waits for more.</summary>
    private bool _examinedAll;
    private bool _peerClosed;
    private Exception? _error;
    private bool _completed;
    private bool _cancelRequested;

    /// <summary>A socket receive is outstanding (into _memory[_end..], or a zero-byte one).</summary>
    private bool _receiving;
    private bool _receivingZero;

    /// <summary>A message body streams in: a fresh buffer is a bulk block (<see cref="BulkReceive"/>).</summary>
    private bool _bulk;

    /// <summary>A reader awaits <see cref="_source"/>.</summary>
    private bool _waiting;
    private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _receive;
    private ManualResetValueTaskSourceCore<ReadResult> _source;

    /// <summary>The buffer handed out by the last read (AdvanceTo measures its positions against it).</summary>
    private ReadOnlySequence<byte> _lastBuffer;

    public SocketPipeReader(Socket socket, MemoryPool<byte> pool)
    {
        _socket = socket;
        _pool = pool;
        _onReceived = OnReceived;
        _source.RunContinuationsAsynchronously = false;
    }

    private object Sync => _onReceived;

    /// <summary>True when this reader holds a buffer (a partial line, or bytes not yet consumed).</summary>
    internal bool HoldsBuffer
    {
        get
        {
            lock (Sync)
            {
                return _owner is not null;
            }
        }
    }

    /// <summary>
    /// Set by the session while a message body streams in (DATA, BDAT): receives then go into
    /// <see cref="BlockMemoryPool.BulkBlockSize"/> blocks instead of pool blocks, so a large body
    /// takes a sixteenth of the receive calls and wake-ups. The block goes back once everything in
    /// it was consumed, as any block does, so an idle session still holds none.
    /// </summary>
    internal bool BulkReceive
    {
        set
        {
            lock (Sync)
            {
                _bulk = value;
            }
        }
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        lock (Sync)
        {
            ObjectDisposedException.ThrowIf(_completed, this);
            if (_waiting)
            {
                throw new InvalidOperationException("a read is already pending");
            }

            if (_cancelRequested)
            {
                _cancelRequested = false;
                return new ValueTask<ReadResult>(new ReadResult(Buffer(), isCanceled: true, isCompleted: false));
            }

            if (_end > _start && !_examinedAll)
            {
                return new ValueTask<ReadResult>(new ReadResult(Buffer(), isCanceled: false, isCompleted: _peerClosed));
            }

            if (_error is { } error)
            {
                return ValueTask.FromException<ReadResult>(error);
            }

            if (_peerClosed)
            {
                return new ValueTask<ReadResult>(new ReadResult(Buffer(), isCanceled: false, isCompleted: true));
            }

            _source.Reset();
            _waiting = true;
            if (!_receiving)
            {
                bool nothingUnread = _end == _start;
                if (nothingUnread)
                {
                    // Wait for the socket to become readable without holding a buffer.
                    ReleaseBuffer();
                }

                Pump(zeroByte: nothingUnread);
            }

            if (!_waiting || _receiving)
            {
                // Pending, or already answered by a completion that ran on this thread.
                return new ValueTask<ReadResult>(this, _source.Version);
            }

            // The receive completed synchronously.
            _waiting = false;
            return _error is { } failed && _end == _start
                ? ValueTask.FromException<ReadResult>(failed)
                : new ValueTask<ReadResult>(new ReadResult(Buffer(), isCanceled: false, isCompleted: _peerClosed));
        }
    }

    public override bool TryRead(out ReadResult result)
    {
        lock (Sync)
        {
            ObjectDisposedException.ThrowIf(_completed, this);
            if (_cancelRequested)
            {
                _cancelRequested = false;
                result = new ReadResult(Buffer(), isCanceled: true, isCompleted: false);
                return true;
            }

            if ((_end > _start && !_examinedAll) || _peerClosed)
            {
                result = new ReadResult(Buffer(), isCanceled: false, isCompleted: _peerClosed);
                return true;
            }

            result = default;
            return false;
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        lock (Sync)
        {
            int length = (int)_lastBuffer.Length;
            int used = length == 0 ? 0 : (int)_lastBuffer.Slice(_lastBuffer.Start, consumed).Length;
            int seen = length == 0 ? 0 : (int)_lastBuffer.Slice(_lastBuffer.Start, examined).Length;
            _lastBuffer = default;
            _start += used;
            _examinedAll = seen >= length;
            if (_start == _end && !_receiving)
            {
                // Everything consumed: the block goes back to the pool now, not at the next read.
                _examinedAll = false;
                ReleaseBuffer();
            }
        }
    }

    public override void CancelPendingRead()
    {
        ReadResult canceled;
        lock (Sync)
        {
            if (_completed)
            {
                return;
            }

            if (!_waiting)
            {
                _cancelRequested = true;
                return;
            }

            // The socket receive goes on; whatever it brings is kept for the next read.
            _waiting = false;
            canceled = new ReadResult(Buffer(), isCanceled: true, isCompleted: false);
        }

        _source.SetResult(canceled);
    }

    public override void Complete(Exception? exception = null)
    {
        lock (Sync)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            _lastBuffer = default;
            if (!_receiving)
            {
                ReleaseBuffer();
            }

            // A receive still outstanding gives the buffer back when it ends (the socket is being closed).
        }
    }

    /// <summary>
    /// Under the lock: receives until one is pending (<see cref="_receiving"/>) or has an outcome
    /// (bytes, end of stream, an error). A zero-byte receive that completes means "readable": the
    /// block is rented then, and the real receive follows.
    /// </summary>
    /// <param name="woke">A zero-byte receive has just said the socket is readable.</param>
    private void Pump(bool zeroByte, bool woke = false)
    {
        bool retried = false;
        while (true)
        {
            if (!zeroByte && woke && !retried && TryReceiveNow(ref zeroByte, ref retried))
            {
                return;
            }

            ValueTask<int> receive;
            try
            {
                if (zeroByte)
                {
                    receive = _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                }
                else
                {
                    MakeRoom();
                    receive = _socket.ReceiveAsync(_memory[_end..], SocketFlags.None);
                }
            }
            catch (Exception e)
            {
                Fail(e);
                return;
            }

            if (!receive.IsCompleted)
            {
                _receiving = true;
                _receivingZero = zeroByte;
                _receive = receive.ConfigureAwait(false).GetAwaiter();
                _receive.UnsafeOnCompleted(_onReceived);
                return;
            }

            int n;
            try
            {
                n = receive.GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                Fail(e);
                return;
            }

            if (zeroByte)
            {
                zeroByte = false;
                woke = true;
                continue;
            }

            Account(n);
            return;
        }
    }

    /// <summary>
    /// After a zero-byte wake-up: one non-blocking receive into a rented block (true: done). When
    /// the socket has nothing after all (a wake-up without data), the block goes back to the pool
    /// and the wait is a zero-byte receive again (false), so an idle session never holds a block
    /// while it waits; a second such wake-up in one pump waits with the block.
    /// </summary>
    private bool TryReceiveNow(ref bool zeroByte, ref bool retried)
    {
        MakeRoom();
        int n = _socket.Receive(_memory.Span[_end..], SocketFlags.None, out SocketError status);
        if (status == SocketError.WouldBlock)
        {
            ReleaseBuffer();
            zeroByte = true;
            retried = true;
            return false;
        }

        if (status != SocketError.Success)
        {
            Fail(new SocketException((int)status));
            return true;
        }

        Account(n);
        return true;
    }

    private void OnReceived()
    {
        ReadResult result = default;
        Exception? error = null;
        lock (Sync)
        {
            ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter receive = _receive;
            _receive = default;
            _receiving = false;
            int n;
            try
            {
                n = receive.GetResult();
            }
            catch (Exception e)
            {
                n = -1;
                if (!_completed)
                {
                    Fail(e);
                }
            }

            if (_completed)
            {
                ReleaseBuffer();
                return;
            }

            if (n >= 0)
            {
                if (_receivingZero)
                {
                    Pump(zeroByte: false, woke: true);
                    if (_receiving)
                    {
                        return;
                    }
                }
                else
                {
                    Account(n);
                }
            }

            if (!_waiting)
            {
                // Nobody reads now (the read was canceled): the bytes wait for the next read.
                return;
            }

            _waiting = false;
            if (_error is not null && _end == _start)
            {
                error = _error;
            }
            else
            {
                result = new ReadResult(Buffer(), isCanceled: false, isCompleted: _peerClosed);
            }
        }

        if (error is not null)
        {
            _source.SetException(error);
        }
        else
        {
            _source.SetResult(result);
        }
    }

    private void Account(int n)
    {
        if (n == 0)
        {
            _peerClosed = true;
        }

        _end += n;
        _examinedAll = false;
        if (_end == _start)
        {
            ReleaseBuffer();
        }
    }

    private void Fail(Exception e) =>
        _error = e is SocketException socket ? new IOException(socket.Message, socket) : e;

    /// <summary>Rents a block, or moves the unread bytes down or into a bigger buffer, so that a receive has room.</summary>
    private void MakeRoom()
    {
        if (_owner is null)
        {
            _owner = _bulk ? BlockMemoryPool.Bulk.Rent(-1) : _pool.Rent(-1);
            _memory = _owner.Memory;
            _start = 0;
            _end = 0;
            return;
        }

        if (_memory.Length - _end >= MinimumReadSize)
        {
            return;
        }

        int unread = _end - _start;
        if (_memory.Length - unread >= MinimumReadSize)
        {
            _memory.Span[_start.._end].CopyTo(_memory.Span);
        }
        else
        {
            IMemoryOwner<byte> bigger = _pool.Rent(Math.Max(_memory.Length * 2, unread + MinimumReadSize));
            _memory.Span[_start.._end].CopyTo(bigger.Memory.Span);
            _owner.Dispose();
            _owner = bigger;
            _memory = bigger.Memory;
        }

        _start = 0;
        _end = unread;
    }

    private void ReleaseBuffer()
    {
        _start = 0;
        _end = 0;
        if (_owner is not null)
        {
            _owner.Dispose();
            _owner = null;
            _memory = default;
        }
    }

    private ReadOnlySequence<byte> Buffer()
    {
        _lastBuffer = _end > _start ? new ReadOnlySequence<byte>(_memory[_start.._end]) : default;
        return _lastBuffer;
    }

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}
