using AbilisFast.Server.Transport;

namespace AbilisFast.Server.Sessions;

/// <summary>
/// Deadlines, all checked by the server's one-second heartbeat against per-session timestamps (no
/// timer or token per command): DT since the last whole command line (so a line that dribbles in
/// byte by byte must still be whole within DT) or since the last DATA progress; DATA-TIMEOUT for one
/// whole DATA or BDAT transfer; MIN-DATA-RATE over each DATA-RATE-WINDOW of a transfer, the first
/// window being the grace period.
/// </summary>
internal sealed partial class InSession
{
    /// <summary>Tick (ms) when the running DATA or BDAT transfer began; 0 when none runs.</summary>
    private long _transferStart;

    /// <summary>Raw bytes received in the running transfer (written by the session, read by the heartbeat).</summary>
    private long _transferBytes;

    /// <summary>Incremented at each transfer start, so the heartbeat knows its rate window is stale.</summary>
    private long _transferNumber;

    // Owned by the heartbeat thread: the start of the current rate window.
    private long _windowTransfer;
    private long _windowStart;
    private long _windowBytes;

    private int _timeoutReason;

    /// <summary>For a session going back to its pool: no transfer running, no timeout recorded.</summary>
    private void ResetDeadlines()
    {
        _timeoutReason = 0;
        _transferStart = 0;
    }

    private void StartTransfer()
    {
        if (Volatile.Read(ref _transferStart) != 0)
        {
            return;
        }

        Volatile.Write(ref _transferBytes, 0);
        Volatile.Write(ref _transferStart, Math.Max(1, Environment.TickCount64));
        Interlocked.Increment(ref _transferNumber);
        BulkReceive(true);
    }

    /// <summary>Larger receives while a body streams in (plaintext sockets; TLS reads its records as they come).</summary>
    private void BulkReceive(bool on)
    {
        if (_transportOrNull?.Input is SocketPipeReader reader)
        {
            reader.BulkReceive = on;
        }
    }

    private void CountTransfer(long bytes)
    {
        if (bytes > 0)
        {
            Volatile.Write(ref _transferBytes, _transferBytes + bytes);
        }
    }

    private void EndTransfer()
    {
        if (Volatile.Read(ref _transferStart) != 0)
        {
            Volatile.Write(ref _transferStart, 0);
            BulkReceive(false);
        }
    }

    /// <summary>
    /// Called by the heartbeat once a second: ends the session (421 4.4.2) when one of its deadlines
    /// has passed. The session may have ended and been reused for a fresh connection since the
    /// heartbeat took the reference; every figure is read again here, so a stale check is harmless.
    /// </summary>
    public void CheckDeadlines(long now, SmtpSettings settings)
    {
        ISessionTransport? transport = _transportOrNull;
        if (transport is null || Volatile.Read(ref _handshaking) != 0)
        {
            // A TLS handshake has its own deadline (HandshakeAsync) and no reader to cancel.
            return;
        }

        TimeoutReason reason = TimeoutReason.None;
        long start = Volatile.Read(ref _transferStart);
        if (start != 0)
        {
            reason = CheckTransfer(now, start, settings);
        }

        TimeSpan dt = _stress?.Timeout(settings.InactivityTimeout) ?? settings.InactivityTimeout;
        if (reason == TimeoutReason.None && now - LastActivity > (long)dt.TotalMilliseconds)
        {
            reason = TimeoutReason.Idle;
        }

        if (reason != TimeoutReason.None)
        {
            Expire(transport, reason);
        }
    }

    private TimeoutReason CheckTransfer(long now, long start, SmtpSettings settings)
    {
        long limit = (long)settings.DataTimeout.TotalMilliseconds;
        if (limit > 0 && now - start > limit)
        {
            return TimeoutReason.DataDeadline;
        }

        if (settings.MinDataRate <= 0)
        {
            return TimeoutReason.None;
        }

        long number = Volatile.Read(ref _transferNumber);
        long bytes = Volatile.Read(ref _transferBytes);
        if (_windowTransfer != number)
        {
            _windowTransfer = number;
            _windowStart = start;
            _windowBytes = 0;
        }

        long elapsed = now - _windowStart;
        if (elapsed < (long)settings.DataRateWindow.TotalMilliseconds)
        {
            return TimeoutReason.None;
        }

        if ((bytes - _windowBytes) * 1000 < settings.MinDataRate * elapsed)
        {
            return TimeoutReason.DataRate;
        }

        _windowStart = now;
        _windowBytes = bytes;
        return TimeoutReason.None;
    }

    private void Expire(ISessionTransport transport, TimeoutReason reason)
    {
        if (Interlocked.CompareExchange(ref _timeoutReason, (int)reason, 0) == 0)
        {
            _context.Timeouts.Count(reason);
            transport.Input.CancelPendingRead();
        }
        else
        {
            // A second tick and still here: the peer does not even read our replies.
            transport.Abort();
        }
    }

    /// <summary>The session-log line for a session ended by a deadline.</summary>
    private void LogTimeout()
    {
        ReadOnlySpan<byte> text = (TimeoutReason)Volatile.Read(ref _timeoutReason) switch
        {
            TimeoutReason.DataDeadline => "Timeout: DATA-TIMEOUT exceeded, session dropped"u8,
            TimeoutReason.DataRate => "Timeout: data slower than MIN-DATA-RATE, session dropped"u8,
            _ => "Timeout: DT exceeded (no whole command line, or no data), session dropped"u8,
        };
        _context.Log.Write(LogTag.Channel(_channelNumber), text);
    }
}
