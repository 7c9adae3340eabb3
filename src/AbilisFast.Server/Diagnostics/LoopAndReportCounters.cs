namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// Mail loops caught since the start, shown by <c>d m smtp</c>: messages refused because they carry
/// more than HOP-LIMIT Received: fields (SMTP, BDAT or pickup), and deliveries whose next hop was
/// this server itself (failed with 5.4.6 "loops back to myself").
/// </summary>
internal sealed class LoopCounters
{
    /// <summary>Messages refused for carrying more than HOP-LIMIT Received: fields.</summary>
    public EventCounter HopLimit { get; } = new();

    /// <summary>Deliveries failed because the next hop was this server itself.</summary>
    public EventCounter LoopBack { get; } = new();
}

/// <summary>
/// The RFC 3464 reports other than failure notifications, since the start, shown by <c>d m smtp</c>
/// (the Abilis NOTIFY counters of <c>d s smtp</c> stay failure notifications only): success reports
/// (NOTIFY=SUCCESS) and delay reports (NOTIFY=DELAY) generated, the recipients they report by
/// action, and how those reports fared when they left the queue.
/// </summary>
internal sealed class ReportCounters
{
    /// <summary>Success reports generated (Action: delivered or relayed).</summary>
    public EventCounter Success { get; } = new();

    /// <summary>Delay reports generated (Action: delayed).</summary>
    public EventCounter Delay { get; } = new();

    /// <summary>Recipients reported as delivered (into a local mailbox).</summary>
    public EventCounter Delivered { get; } = new();

    /// <summary>Recipients reported as relayed (to a next hop that does not offer DSN).</summary>
    public EventCounter Relayed { get; } = new();

    /// <summary>Recipients reported as delayed.</summary>
    public EventCounter Delayed { get; } = new();

    /// <summary>Success and delay reports that left the queue delivered.</summary>
    public EventCounter Sent { get; } = new();

    /// <summary>Success and delay reports that could not be delivered (dropped, never notified about).</summary>
    public EventCounter Failed { get; } = new();

    public void CountSuccess(int delivered, int relayed)
    {
        Success.Increment();
        Delivered.Add(delivered);
        Relayed.Add(relayed);
    }

    public void CountDelay(int recipients)
    {
        Delay.Increment();
        Delayed.Add(recipients);
    }

    public void CountDone(bool delivered) => (delivered ? Sent : Failed).Increment();
}
