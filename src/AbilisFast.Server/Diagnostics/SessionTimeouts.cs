using AbilisFast.Server.Sessions;

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

    internal void Count(InSession.TimeoutReason reason)
    {
        switch (reason)
        {
            case InSession.TimeoutReason.Idle:
                Interlocked.Increment(ref _idle);
                break;
            case InSession.TimeoutReason.DataDeadline:
                Interlocked.Increment(ref _dataDeadline);
                break;
            case InSession.TimeoutReason.DataRate:
                Interlocked.Increment(ref _dataRate);
                break;
        }
    }
}
