using System.Buffers;
using System.Collections.Concurrent;

namespace AbilisFast.Server.Spool;

/// <summary>
/// Durable message spool: an append-only journal of preallocated segment files with group commit.
/// See <see cref="SpoolRecord"/> for the record format.
/// </summary>
internal sealed partial class SpoolStore : IAsyncDisposable, IDisposable
{
    private readonly object _lock = new();
    private readonly string _directory;
    private readonly SpoolOptions _options;
    private readonly ulong _salt;
    private readonly uint _seed;
    private readonly List<SpoolSegment> _segments = [];
    private readonly Dictionary<uint, SpoolMessage> _index = [];
    private readonly ConcurrentQueue<SpoolWriter> _writerPool = new();
    private SpoolSegment? _active;
    private long _tail;
    private bool _rollNext;
    private uint _lastId;
    private bool _disposed;

    private SpoolStore(string directory, SpoolOptions options, ulong salt)
    {
        _directory = directory;
        _options = options;
        _salt = salt;
        _seed = SpoolRecord.SeedFor(salt);
        _committer = new Thread(CommitterLoop) { IsBackground = true, Name = "spool-committer" };
    }

    internal SpoolOptions Options => _options;

    internal uint Seed => _seed;

    public string Directory => _directory;

    /// <summary>Opens (creating if needed) the spool in <paramref name="directory"/> and recovers its messages.</summary>
    public static SpoolStore Open(string directory, SpoolOptions options, out IReadOnlyList<RecoveredMessage> recovered)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        directory = Path.GetFullPath(directory);
        SpoolNative.CreatePrivateDirectory(directory);
        SpoolStore spool = Recover(directory, options, out recovered);
        spool._committer.Start();
        return spool;
    }

    /// <summary>Next message id: monotonic, never 0.</summary>
    public uint NextId()
    {
        uint id = Interlocked.Increment(ref _lastId);
        while (id == 0)
        {
            id = Interlocked.Increment(ref _lastId);
        }

        return id;
    }

    /// <summary>Starts a message. Dispose the writer when finished (after awaiting the commit).</summary>
    public SpoolWriter BeginMessage(uint id)
    {
        if (id == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(id), "Message id 0 is reserved.");
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_index.ContainsKey(id))
            {
                throw new InvalidOperationException($"Message {SpoolIds.Format(id)} is already stored.");
            }
        }

        if (!_writerPool.TryDequeue(out SpoolWriter? writer))
        {
            writer = new SpoolWriter(this);
        }

        writer.Start(id);
        return writer;
    }

    internal void ReturnWriter(SpoolWriter writer)
    {
        if (_writerPool.Count < 256)
        {
            _writerPool.Enqueue(writer);
        }
    }

    /// <summary>Marks a delivered message done. Not fsynced: a lost Done only repeats a delivery.</summary>
    public void MarkDone(uint id)
    {
        Span<byte> record = stackalloc byte[SpoolRecord.HeaderSize];
        SpoolRecord.Seal(record, SpoolRecordType.Done, id, 0, 0, _seed);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_index.Remove(id, out SpoolMessage? message))
            {
                return;
            }

            SpoolSegment? doneSegment = null;
            try
            {
                (doneSegment, _) = AppendLocked(record);
            }
            catch (IOException ex)
            {
                // The message is still dropped from memory; its segments are released below, and once they
                // are deleted the message is gone for good. Until then a restart may deliver it again.
                Log($"spool: writing Done for {SpoolIds.Format(id)} failed: {ex.Message}");
            }

            for (int i = 0; i < message.SegmentCount; i++)
            {
                SpoolSegment segment = message.Segment(i);
                segment.Live--;
                if (doneSegment is not null && !ReferenceEquals(segment, doneSegment))
                {
                    doneSegment.AddDoneTarget(segment);
                }
            }

            SweepLocked();
        }
    }

    /// <summary>Stores an opaque retry payload for a live message; recovery returns the last one. Not fsynced.</summary>
    public void WriteRetry(uint id, ReadOnlySpan<byte> payload)
    {
        int size = SpoolRecord.SizeOf(payload.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            Span<byte> record = buffer.AsSpan(0, size);
            payload.CopyTo(record[SpoolRecord.HeaderSize..]);
            SpoolRecord.Seal(record, SpoolRecordType.Retry, id, 0, payload.Length, _seed);
            lock (_lock)
            {
                if (!_index.TryGetValue(id, out SpoolMessage? message))
                {
                    throw new InvalidOperationException($"Message {SpoolIds.Format(id)} is not stored.");
                }

                (SpoolSegment segment, _) = AppendLocked(record);
                if (message.AddSegment(segment))
                {
                    segment.Live++;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Streams the body of a committed message without loading it into memory.</summary>
    public Stream OpenBody(uint id)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_index.TryGetValue(id, out SpoolMessage? message))
            {
                throw new InvalidOperationException($"Message {SpoolIds.Format(id)} is not stored.");
            }

            SpoolSegment[] pinned = message.CopySegments();
            foreach (SpoolSegment segment in pinned)
            {
                segment.Pins++;
            }

            return new SpoolBodyStream(this, message, pinned);
        }
    }

    internal void ReleaseBody(SpoolSegment[] pinned)
    {
        lock (_lock)
        {
            foreach (SpoolSegment segment in pinned)
            {
                segment.Pins--;
            }

            SweepLocked();
        }
    }

    /// <summary>
    /// The committed envelope of a live message, read back from its Commit record (the index does not
    /// keep it in memory), or null when the spool does not hold the message or the read fails.
    /// </summary>
    public byte[]? ReadEnvelope(uint id)
    {
        lock (_lock)
        {
            if (_disposed || !_index.TryGetValue(id, out SpoolMessage? message))
            {
                return null;
            }

            StoredFragment at = message.EnvelopeAt;
            byte[] envelope = new byte[at.Length];
            try
            {
                int done = 0;
                while (done < envelope.Length)
                {
                    int read = RandomAccess.Read(at.Segment.Handle, envelope.AsSpan(done), at.Offset + done);
                    if (read <= 0)
                    {
                        Log($"spool: envelope of {SpoolIds.Format(id)} cut short in {at.Segment.Path}");
                        return null;
                    }

                    done += read;
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                Log($"spool: reading the envelope of {SpoolIds.Format(id)} failed: {ex.Message}");
                return null;
            }

            return envelope;
        }
    }

    public long AvailableBytes => _options.FreeSpaceOverride?.Invoke() ?? SpoolNative.AvailableBytes(_directory);

    /// <summary>
    /// <see cref="AvailableBytes"/> read at most every <see cref="FreeSpaceRecheckMs"/> ms: the check
    /// at MAIL is advisory (a segment roll checks exactly), and one statvfs per message cost one
    /// system call in every transaction under load.
    /// </summary>
    public long AvailableBytesRecent
    {
        get
        {
            if (_options.FreeSpaceOverride is { } overridden)
            {
                return overridden();
            }

            long now = Environment.TickCount64;
            if (now - Volatile.Read(ref _freeSpaceCheckedAt) >= FreeSpaceRecheckMs)
            {
                Volatile.Write(ref _freeSpaceBytes, SpoolNative.AvailableBytes(_directory));
                Volatile.Write(ref _freeSpaceCheckedAt, now);
            }

            return Volatile.Read(ref _freeSpaceBytes);
        }
    }

    /// <summary>
    /// The check at MAIL: room for a new segment, the reserve and the declared SIZE
    /// (<see cref="AvailableBytesRecent"/>). The first refusal for lack of space, and the first
    /// message taken again once space returned, each log one line (session log and standard error),
    /// so a full disk is said once, not once per MAIL.
    /// </summary>
    public bool HasRoomFor(long declaredSize)
    {
        long available = AvailableBytesRecent;
        long floor = _options.SegmentSize + _options.MinFreeBytes;
        NoteFreeSpace(available, floor);
        return available >= declaredSize + floor;
    }

    /// <summary>True while the last look at the disk found less than a new segment and the reserve.</summary>
    public bool LowOnSpace => Volatile.Read(ref _lowOnSpace) != 0;

    private int _lowOnSpace;

    private void NoteFreeSpace(long available, long floor)
    {
        int low = available < floor ? 1 : 0;
        if (Interlocked.Exchange(ref _lowOnSpace, low) == low)
        {
            return;
        }

        Log(low == 1
            ? $"spool: disk almost full: {Mib(available)} MiB free in {_directory}, under the {Mib(floor)} MiB a new segment and the reserve need; new mail gets 452 4.3.1 at MAIL until space returns (mail already accepted is kept and delivered)"
            : $"spool: space is back: {Mib(available)} MiB free in {_directory}; taking mail again");
    }

    private static long Mib(long bytes) => bytes >> 20;

    private const long FreeSpaceRecheckMs = 200;
    private long _freeSpaceCheckedAt = long.MinValue / 2;
    private long _freeSpaceBytes;

    public int LiveMessages
    {
        get
        {
            lock (_lock)
            {
                return _index.Count;
            }
        }
    }

    internal int SegmentCount
    {
        get
        {
            lock (_lock)
            {
                return _segments.Count;
            }
        }
    }

    public bool Contains(uint id)
    {
        lock (_lock)
        {
            return _index.ContainsKey(id);
        }
    }

    private void Log(string line) => _options.Log?.Invoke(line);

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        StopCommitter();
        lock (_lock)
        {
            foreach (SpoolSegment segment in _segments)
            {
                segment.Handle.Dispose();
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
