namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// Inbound sessions ended by a deadline since the start, by kind (DT, DATA-TIMEOUT, MIN-DATA-RATE);
/// shown by <c>d m smtp</c>. Written by the heartbeat thread, read by the console.
/// </summary>
internal sealed class SessionTimeouts
{
    private long _idle;
    private long _dataDeadline;
    private long _dataRate;

    public long Idle => Volatile.Read(ref _idle);

    public long DataDeadline => Volatile.Read(ref _dataDeadline);

    public long DataRate => Volatile.Read(ref _dataRate);

    private long _shed;
    private long _junkClosed;

    /// <summary>Idle sessions closed to give their channel to a waiting connection (under stress).</summary>
    public long Shed => Volatile.Read(ref _shed);

    /// <summary>Sessions closed for a junk command (NOOP, RSET, VRFY, HELP) under stress.</summary>
    public long JunkClosed => Volatile.Read(ref _junkClosed);

    internal void CountShed() => Interlocked.Increment(ref _shed);

    internal void CountJunkClosed() => Interlocked.Increment(ref _junkClosed);

    internal void Count(TimeoutReason reason)
    {
        switch (reason)
        {
            case TimeoutReason.Idle:
                Interlocked.Increment(ref _idle);
                break;
            case TimeoutReason.DataDeadline:
                Interlocked.Increment(ref _dataDeadline);
                break;
            case TimeoutReason.DataRate:
                Interlocked.Increment(ref _dataRate);
                break;
        }
    }
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
