namespace AbilisFast.Server.Sessions;

/// <summary>
/// Whether the inbound side is under stress: a connection found no free channel within the last
/// <see cref="Hold"/>. Postfix has the same notion (its <c>${stress?...}</c> settings, on while every
/// smtpd process is busy); here it turns on when someone actually waits for a channel, and stays on
/// for <see cref="Hold"/> after the last such connection. Under stress DT is at most
/// <see cref="StressTimeout"/>, the junk-command limit is <see cref="StressJunkLimit"/>, and sessions
/// that hold a channel without using it are closed to make room (<see cref="SmtpListener"/>).
/// </summary>
internal sealed class ChannelStress
{
    /// <summary>Stress stays on this long after the last connection that found every channel busy.</summary>
    public static readonly TimeSpan Hold = TimeSpan.FromSeconds(10);

    /// <summary>DT under stress, when DT is longer (Postfix: smtpd_timeout = ${stress?{10}:{300}}s).</summary>
    public static readonly TimeSpan StressTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A session outside a mail transaction that has sent no useful command (HELO/EHLO, MAIL, RCPT,
    /// DATA, BDAT, AUTH, STARTTLS, QUIT) for this long may be closed to give its channel to a waiting
    /// connection.
    /// </summary>
    public static readonly TimeSpan ShedAfter = TimeSpan.FromSeconds(2);

    /// <summary>NOOP, RSET, VRFY and HELP a session may send under stress (Postfix: ${stress?1}).</summary>
    public const int StressJunkLimit = 1;

    private readonly Func<long> _now;
    private long _until;
    private long _episodes;

    public ChannelStress(Func<long>? now = null)
    {
        _now = now ?? (() => Environment.TickCount64);
    }

    /// <summary>True while stress is on.</summary>
    public bool IsActive => _now() < Volatile.Read(ref _until);

    /// <summary>How many times stress has turned on since the start.</summary>
    public long Episodes => Volatile.Read(ref _episodes);

    /// <summary>A connection found every channel busy: stress is on for <see cref="Hold"/> from now. True when it was off.</summary>
    public bool Signal()
    {
        long now = _now();
        bool wasActive = now < Volatile.Read(ref _until);
        Volatile.Write(ref _until, now + (long)Hold.TotalMilliseconds);
        if (!wasActive)
        {
            Interlocked.Increment(ref _episodes);
        }

        return !wasActive;
    }

    /// <summary>DT as it applies now: at most <see cref="StressTimeout"/> under stress.</summary>
    public TimeSpan Timeout(TimeSpan dt) => IsActive && dt > StressTimeout ? StressTimeout : dt;
}
