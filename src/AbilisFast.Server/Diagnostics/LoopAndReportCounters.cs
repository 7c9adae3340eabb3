namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// Mail loops caught since the start, shown by <c>d m smtp</c>: messages refused because they carry
/// more than HOP-LIMIT Received: fields (SMTP, BDAT or pickup), and deliveries whose next hop was
/// this server itself (failed with 5.4.6 "loops back to myself").
/// </summary>
internal sealed class LoopCounters
{
    private long _hopLimit;
    private long _loopBack;

    public long HopLimit => Volatile.Read(ref _hopLimit);

    public long LoopBack => Volatile.Read(ref _loopBack);

    public void CountHopLimit() => Interlocked.Increment(ref _hopLimit);

    public void CountLoopBack() => Interlocked.Increment(ref _loopBack);
}

/// <summary>
/// The RFC 3464 reports other than failure notifications, since the start, shown by <c>d m smtp</c>
/// (the Abilis NOTIFY counters of <c>d s smtp</c> stay failure notifications only): success reports
/// (NOTIFY=SUCCESS) and delay reports (NOTIFY=DELAY) generated, the recipients they report by
/// action, and how those reports fared when they left the queue.
/// </summary>
internal sealed class ReportCounters
{
    private long _success;
    private long _delay;
    private long _delivered;
    private long _relayed;
    private long _delayed;
    private long _sent;
    private long _failed;

    /// <summary>Success reports generated (Action: delivered or relayed).</summary>
    public long Success => Volatile.Read(ref _success);

    /// <summary>Delay reports generated (Action: delayed).</summary>
    public long Delay => Volatile.Read(ref _delay);

    /// <summary>Recipients reported as delivered (into a local mailbox).</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>Recipients reported as relayed (to a next hop that does not offer DSN).</summary>
    public long Relayed => Volatile.Read(ref _relayed);

    /// <summary>Recipients reported as delayed.</summary>
    public long Delayed => Volatile.Read(ref _delayed);

    /// <summary>Success and delay reports that left the queue delivered.</summary>
    public long Sent => Volatile.Read(ref _sent);

    /// <summary>Success and delay reports that could not be delivered (dropped, never notified about).</summary>
    public long Failed => Volatile.Read(ref _failed);

    public void CountSuccess(int delivered, int relayed)
    {
        Interlocked.Increment(ref _success);
        Interlocked.Add(ref _delivered, delivered);
        Interlocked.Add(ref _relayed, relayed);
    }

    public void CountDelay(int recipients)
    {
        Interlocked.Increment(ref _delay);
        Interlocked.Add(ref _delayed, recipients);
    }

    public void CountDone(bool delivered)
    {
        if (delivered)
        {
            Interlocked.Increment(ref _sent);
        }
        else
        {
            Interlocked.Increment(ref _failed);
        }
    }
}
