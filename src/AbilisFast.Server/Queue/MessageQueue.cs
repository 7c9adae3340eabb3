using System.Collections.Concurrent;

namespace AbilisFast.Server.Queue;

/// <summary>A message the spool holds whole and durable, as QUEUE-OUT knows it.</summary>
internal readonly record struct QueuedMessage(uint Id, long Size, long ReceivedUnixMs);

/// <summary>
/// QUEUE-OUT and QUEUE-DEFER. A message enters QUEUE-OUT only once its commit is durable (or at
/// recovery). The delivery side takes messages from here; until it runs (or with QUEUE-HOLD:YES)
/// they stay queued. Entries are structs, so queueing allocates nothing in the steady state.
/// </summary>
internal sealed class MessageQueue
{
    private readonly ConcurrentQueue<QueuedMessage> _out = new();
    private int _outCount;

    public int OutCount => Volatile.Read(ref _outCount);
    /// <summary>QUEUE-DEFER: nothing is deferred until the delivery side exists.</summary>
    public int DeferCount => 0;

    /// <summary>Raised (on the committing thread) when a message is added to QUEUE-OUT.</summary>
    public event Action? MessageQueued;

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

    /// <summary>The ids currently in QUEUE-OUT (a snapshot, for tests and the console).</summary>
    public QueuedMessage[] Snapshot() => _out.ToArray();
}
