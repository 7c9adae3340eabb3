using System.Collections.Concurrent;

namespace AbilisFast.Server.Queue;

/// <summary>A message the spool holds whole and durable, as QUEUE-OUT knows it.</summary>
internal readonly record struct QueuedMessage(uint Id, long Size, long ReceivedUnixMs);

/// <summary>
/// QUEUE-OUT and QUEUE-DEFER. A message enters QUEUE-OUT only once its commit is durable (or at
/// recovery); OUT sessions take it from there. A temporary failure moves it to QUEUE-DEFER with the
/// time of its next attempt; <see cref="PromoteDue"/> moves it back when that time comes.
/// QUEUE-OUT entries are structs in a lock-free queue, so queueing allocates nothing in the steady state.
/// </summary>
internal sealed class MessageQueue
{
    private readonly ConcurrentQueue<QueuedMessage> _out = new();
    private readonly PriorityQueue<QueuedMessage, long> _deferred = new();
    private readonly Dictionary<uint, long> _deferredDue = [];
    private int _outCount;
    private int _deferCount;

    public int OutCount => Volatile.Read(ref _outCount);

    public int DeferCount => Volatile.Read(ref _deferCount);

    /// <summary>Raised when a message is added to QUEUE-OUT (on the adding thread).</summary>
    public event Action? MessageQueued;

    /// <summary>Raised when a message is added to QUEUE-DEFER (the engine re-arms its timer).</summary>
    public event Action? MessageDeferred;

    public void Enqueue(QueuedMessage message)
    {
        _out.Enqueue(message);
        Interlocked.Increment(ref _outCount);
        MessageQueued?.Invoke();
    }

    public bool TryDequeue(out QueuedMessage message)
    {
        if (_out.TryDequeue(out message))
        {
            Interlocked.Decrement(ref _outCount);
            return true;
        }

        return false;
    }

    /// <summary>Puts a message in QUEUE-DEFER until <paramref name="dueUnixMs"/>.</summary>
    public void Defer(QueuedMessage message, long dueUnixMs)
    {
        lock (_deferred)
        {
            _deferred.Enqueue(message, dueUnixMs);
            _deferredDue[message.Id] = dueUnixMs;
            _deferCount = _deferredDue.Count;
        }

        MessageDeferred?.Invoke();
    }

    /// <summary>Moves every deferred message due at <paramref name="nowUnixMs"/> (or all, when <paramref name="all"/>) to QUEUE-OUT.</summary>
    public int PromoteDue(long nowUnixMs, bool all = false)
    {
        int moved = 0;
        while (true)
        {
            QueuedMessage message;
            lock (_deferred)
            {
                if (!_deferred.TryPeek(out message, out long due) || (!all && due > nowUnixMs))
                {
                    return moved;
                }

                _deferred.Dequeue();
                _deferredDue.Remove(message.Id);
                _deferCount = _deferredDue.Count;
            }

            Enqueue(message);
            moved++;
        }
    }

    /// <summary>
    /// Takes one message out of QUEUE-DEFER or QUEUE-OUT (console queue control). QUEUE-OUT is a
    /// lock-free queue: it is drained and refilled without the message, so the others may change
    /// order slightly, and an OUT session may take the message first (then it is not found).
    /// </summary>
    public bool TryRemove(uint id, out QueuedMessage message, out bool wasDeferred)
    {
        lock (_deferred)
        {
            if (_deferredDue.ContainsKey(id)
                && _deferred.Remove(new QueuedMessage(id, 0, 0), out message, out _, IdComparer.Instance))
            {
                _deferredDue.Remove(id);
                _deferCount = _deferredDue.Count;
                wasDeferred = true;
                return true;
            }
        }

        wasDeferred = false;
        message = default;
        bool found = false;
        var keep = new List<QueuedMessage>();
        while (_out.TryDequeue(out QueuedMessage item))
        {
            Interlocked.Decrement(ref _outCount);
            if (!found && item.Id == id)
            {
                message = item;
                found = true;
            }
            else
            {
                keep.Add(item);
            }
        }

        foreach (QueuedMessage item in keep)
        {
            _out.Enqueue(item);
            Interlocked.Increment(ref _outCount);
        }

        if (keep.Count > 0)
        {
            MessageQueued?.Invoke();
        }

        return found;
    }

    /// <summary>Takes every message out of QUEUE-DEFER and QUEUE-OUT at once (console actions on ALL: one pass, not one per message).</summary>
    public List<QueuedMessage> TakeAll()
    {
        var taken = new List<QueuedMessage>();
        lock (_deferred)
        {
            while (_deferred.TryDequeue(out QueuedMessage message, out _))
            {
                taken.Add(message);
            }

            _deferredDue.Clear();
            _deferCount = 0;
        }

        while (TryDequeue(out QueuedMessage message))
        {
            taken.Add(message);
        }

        return taken;
    }

    /// <summary>Queued messages are the same entry when their ids are.</summary>
    private sealed class IdComparer : IEqualityComparer<QueuedMessage>
    {
        public static readonly IdComparer Instance = new();

        public bool Equals(QueuedMessage x, QueuedMessage y) => x.Id == y.Id;

        public int GetHashCode(QueuedMessage obj) => (int)obj.Id;
    }

    /// <summary>When the earliest deferred message is due, or null when QUEUE-DEFER is empty.</summary>
    public long? NextDueUnixMs
    {
        get
        {
            lock (_deferred)
            {
                return _deferred.TryPeek(out _, out long due) ? due : null;
            }
        }
    }

    /// <summary>
    /// When the oldest message in QUEUE-OUT or QUEUE-DEFER was accepted, or null when both are empty
    /// (a scan of both, for the metrics endpoint; messages being delivered right now are in neither).
    /// </summary>
    public long? OldestReceivedUnixMs()
    {
        long oldest = long.MaxValue;
        foreach (QueuedMessage message in _out)
        {
            oldest = Math.Min(oldest, message.ReceivedUnixMs);
        }

        lock (_deferred)
        {
            foreach ((QueuedMessage message, long _) in _deferred.UnorderedItems)
            {
                oldest = Math.Min(oldest, message.ReceivedUnixMs);
            }
        }

        return oldest == long.MaxValue ? null : oldest;
    }

    /// <summary>The messages in QUEUE-OUT (a snapshot, for tests and the console).</summary>
    public QueuedMessage[] Snapshot() => _out.ToArray();

    /// <summary>The messages in QUEUE-DEFER with their due times, earliest first (a snapshot).</summary>
    public (QueuedMessage Message, long DueUnixMs)[] DeferredSnapshot()
    {
        lock (_deferred)
        {
            return [.. _deferred.UnorderedItems.OrderBy(item => item.Priority).Select(item => (item.Element, item.Priority))];
        }
    }
}
