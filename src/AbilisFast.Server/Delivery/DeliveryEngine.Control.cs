using AbilisFast.Server.Queue;
using AbilisFast.Server.Spool;

namespace AbilisFast.Server.Delivery;

/// <summary>Queue control for the console: list, retry now, delete, hold and release.</summary>
internal sealed partial class DeliveryEngine
{
    public IReadOnlyList<QueueEntry> List()
    {
        var entries = new List<QueueEntry>();
        foreach (QueuedMessage message in _inFlight.Values)
        {
            entries.Add(Entry(message, QueueEntryState.Active, null));
        }

        foreach (QueuedMessage message in _context.Queue.Snapshot())
        {
            entries.Add(Entry(message, QueueEntryState.Out, null));
        }

        foreach ((QueuedMessage message, long due) in _context.Queue.DeferredSnapshot())
        {
            entries.Add(Entry(message, QueueEntryState.Defer, due));
        }

        foreach (QueuedMessage message in _held.Values.OrderBy(m => m.ReceivedUnixMs))
        {
            entries.Add(Entry(message, QueueEntryState.Hold, null));
        }

        return entries;
    }

    private QueueEntry Entry(QueuedMessage message, QueueEntryState state, long? due)
    {
        _states.TryGetValue(message.Id, out DeliveryState? progress);
        return new QueueEntry(message, state, due, progress?.Attempts ?? 0, progress?.LastReply ?? []);
    }

    public int Retry(uint? id)
    {
        ForgetTroubles();
        if (id is null)
        {
            return _context.Queue.PromoteDue(long.MaxValue, all: true);
        }

        uint one = id.Value;
        if (!_context.Queue.DeferredSnapshot().Any(d => d.Message.Id == one))
        {
            throw new QueueControlException(WhyNot(one, "in QUEUE-DEFER"));
        }

        if (!_context.Queue.TryRemove(one, out QueuedMessage message, out _))
        {
            throw new QueueControlException($"message {SpoolIds.Format(one)} is no longer in QUEUE-DEFER");
        }

        _context.Queue.Enqueue(message);
        return 1;
    }

    public int Delete(uint? id)
    {
        if (id is null)
        {
            int deleted = 0;
            foreach (QueuedMessage message in _context.Queue.TakeAll())
            {
                deleted += Forget(message.Id, "deleted from the console");
            }

            foreach (uint each in _held.Keys)
            {
                deleted += _held.TryRemove(each, out _) ? Forget(each, "deleted from the console") : 0;
            }

            return deleted;
        }

        if (!TryTake(id.Value, out _))
        {
            throw new QueueControlException(WhyNot(id.Value, "queued"));
        }

        return Forget(id.Value, "deleted from the console");
    }

    public int Hold(uint? id)
    {
        if (id is null)
        {
            int held = 0;
            foreach (QueuedMessage message in _context.Queue.TakeAll())
            {
                held += PutOnHold(message);
            }

            return held;
        }

        if (_held.ContainsKey(id.Value))
        {
            throw new QueueControlException($"message {SpoolIds.Format(id.Value)} is already on hold");
        }

        if (!_context.Queue.TryRemove(id.Value, out QueuedMessage one, out _))
        {
            throw new QueueControlException(WhyNot(id.Value, "queued"));
        }

        return PutOnHold(one);
    }

    public int Release(uint? id)
    {
        if (id is null)
        {
            int released = 0;
            foreach (uint each in _held.Keys)
            {
                released += _held.TryRemove(each, out QueuedMessage message) ? Unhold(message) : 0;
            }

            return released;
        }

        if (!_held.TryRemove(id.Value, out QueuedMessage one))
        {
            throw new QueueControlException(WhyNot(id.Value, "on hold"));
        }

        return Unhold(one);
    }

    /// <summary>Takes a message out of the held set or the queues (not one being delivered).</summary>
    private bool TryTake(uint id, out QueuedMessage message) =>
        _held.TryRemove(id, out message) || _context.Queue.TryRemove(id, out message, out _);

    /// <summary>The message leaves the spool without being delivered; nothing is counted, no notification.</summary>
    private int Forget(uint id, string why)
    {
        _context.Spool!.MarkDone(id);
        _states.TryRemove(id, out _);
        _notifications.TryRemove(id, out _);
        _context.Log.Write(LogTag.Port, $"Message {SpoolIds.Format(id)} {why}");
        return 1;
    }

    private int PutOnHold(QueuedMessage message)
    {
        DeliveryState state = StateOf(message.Id);
        state.Held = true;
        _held[message.Id] = message;
        SaveState(message.Id, state);
        _context.Log.Write(LogTag.Port, $"Message {SpoolIds.Format(message.Id)} put on hold from the console");
        return 1;
    }

    private int Unhold(QueuedMessage message)
    {
        DeliveryState state = StateOf(message.Id);
        state.Held = false;
        state.NextAttemptUnixMs = 0;
        SaveState(message.Id, state);
        _context.Queue.Enqueue(message);
        _context.Log.Write(LogTag.Port, $"Message {SpoolIds.Format(message.Id)} released from hold");
        return 1;
    }

    /// <summary>The delivery state of a message, made from its envelope when it has none yet.</summary>
    private DeliveryState StateOf(uint id) => _states.GetOrAdd(id, key =>
        _context.Spool!.ReadEnvelope(key) is { } bytes && Envelope.TryRead(bytes, out Envelope? envelope)
            ? new DeliveryState(envelope!.Recipients.Count)
            : new DeliveryState(0));

    /// <summary>Writes the retry record so a hold survives a restart.</summary>
    private void SaveState(uint id, DeliveryState state)
    {
        try
        {
            _context.Spool!.WriteRetry(id, state.Encode());
        }
        catch (IOException e)
        {
            _context.Log.Write(LogTag.Port, $"Retry record for {SpoolIds.Format(id)} not written: {e.Message}");
        }
    }

    /// <summary>Why a message is not where an action wanted it.</summary>
    private string WhyNot(uint id, string where)
    {
        string name = SpoolIds.Format(id);
        if (_inFlight.ContainsKey(id))
        {
            return $"message {name} is being delivered now; try again in a moment";
        }

        if (_held.ContainsKey(id))
        {
            return $"message {name} is on hold (REL Q SMTP {name} releases it)";
        }

        if (_context.Queue.Snapshot().Any(m => m.Id == id))
        {
            return $"message {name} is waiting in QUEUE-OUT, not {where}";
        }

        if (_context.Queue.DeferredSnapshot().Any(d => d.Message.Id == id))
        {
            return $"message {name} is in QUEUE-DEFER, not {where}";
        }

        return $"no message {name} {where}";
    }
}
