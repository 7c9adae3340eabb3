namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// Inbound sessions ended by a deadline since the start, by kind (DT, DATA-TIMEOUT, MIN-DATA-RATE);
/// shown by <c>d m smtp</c>. Written by the heartbeat thread, read by the console.
/// </summary>
internal sealed class SessionTimeouts
{
    /// <summary>DT: sessions idle too long.</summary>
    public EventCounter Idle { get; } = new();

    /// <summary>DATA-TIMEOUT: transfers that took too long.</summary>
    public EventCounter DataDeadline { get; } = new();

    /// <summary>MIN-DATA-RATE: transfers too slow.</summary>
    public EventCounter DataRate { get; } = new();

    internal void Count(TimeoutReason reason)
    {
        EventCounter? counter = reason switch
        {
            TimeoutReason.Idle => Idle,
            TimeoutReason.DataDeadline => DataDeadline,
            TimeoutReason.DataRate => DataRate,
            _ => null,
        };
        counter?.Increment();
    }

    /// <summary>Idle sessions closed to give their channel to a waiting connection (under stress).</summary>
    public EventCounter Shed { get; } = new();

    /// <summary>Sessions closed for a junk command (NOOP, RSET, VRFY, HELP) under stress.</summary>
    public EventCounter JunkClosed { get; } = new();
}

/// <summary>Why the heartbeat ended an inbound session (counted and logged).</summary>
internal enum TimeoutReason
{
    None,

    /// <summary>DT: no whole command line (or no DATA progress) for DT seconds.</summary>
    Idle,

    /// <summary>DATA-TIMEOUT: the whole transfer took too long.</summary>
    DataDeadline,

    /// <summary>MIN-DATA-RATE: fewer bytes than the minimum over one window.</summary>
    DataRate,
}
