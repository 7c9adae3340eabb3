using AbilisFast.Protocol.Commands;
using AbilisFast.Protocol.Replies;
using AbilisFast.Protocol.States;

namespace AbilisFast.Server.Sessions;

/// <summary>
/// Junk commands and stress. NOOP, RSET, VRFY and HELP move no mail: past JUNK-CMD-LIMIT (100, as
/// Postfix's smtpd_junk_command_limit) each one counts as an error, so a session that only sends
/// them ends at the error limit; the count starts again after each accepted message. Under stress
/// (<see cref="ChannelStress"/>: a connection is waiting for a channel) the limit is 1 and the second
/// junk command is answered 421, and the listener may close a session that has sent nothing useful
/// for <see cref="ChannelStress.ShedAfter"/> outside a mail transaction (<see cref="TryShed"/>).
/// </summary>
internal sealed partial class InSession
{
    private readonly ChannelStress? _stress;

    /// <summary>NOOP, RSET, VRFY and HELP since the session began or since its last accepted message.</summary>
    private int _junk;

    /// <summary>Stopwatch timestamp of the session's start or of its last useful command.</summary>
    private long _lastUseful;

    /// <summary>
    /// 0: not asked; 1: asked by the listener (<see cref="TryShed"/>) to close with 421 at its next
    /// read if still idle; 2: closing for that. Only the session moves it from 1 (to 0 or 2).
    /// </summary>
    private int _shed;

    /// <summary>Stopwatch timestamp of the session's start or of its last useful command (read by the listener).</summary>
    public long LastUseful => Volatile.Read(ref _lastUseful);

    /// <summary>
    /// False while the session has not yet answered a request to give up its channel, or is closing
    /// for it; true when it was not asked, or was asked and went on (a command came in meanwhile).
    /// </summary>
    public bool ShedDeclined => Volatile.Read(ref _shed) == 0;

    private void MarkUseful() => Volatile.Write(ref _lastUseful, System.Diagnostics.Stopwatch.GetTimestamp());

    /// <summary>Commands that move a session forward; NOOP, RSET, VRFY, HELP, EXPN, unknown verbs and a repeated HELO/EHLO do not.</summary>
    private bool IsUseful(SmtpVerb verb) => verb switch
    {
        SmtpVerb.Mail or SmtpVerb.Rcpt or SmtpVerb.Data or SmtpVerb.Bdat or SmtpVerb.Auth or SmtpVerb.StartTls or SmtpVerb.Quit => true,
        SmtpVerb.Helo or SmtpVerb.Ehlo => _helo.IsEmpty,
        _ => false,
    };

    private static bool IsJunk(SmtpVerb verb) => verb is SmtpVerb.Noop or SmtpVerb.Rset or SmtpVerb.Vrfy or SmtpVerb.Help;

    /// <summary>
    /// Called before a junk command runs: Close (421 sent) when the session is over the stress limit,
    /// else Continue; <see cref="AfterJunk"/> counts the error past JUNK-CMD-LIMIT once it is answered.
    /// </summary>
    private Step BeforeJunk()
    {
        _junk++;
        if (_junk > ChannelStress.StressJunkLimit && _stress is { IsActive: true })
        {
            _context.Timeouts.JunkClosed.Increment();
            _context.Log.Write(LogTag.Channel(_channelNumber), "Closed: NOOP/RSET/VRFY/HELP while every channel is busy"u8);
            Reply(SmtpReplies.TooManyJunkCommands);
            return Step.Close;
        }

        return Step.Continue;
    }

    /// <summary>After a junk command was answered: past JUNK-CMD-LIMIT it counts as an error (421 at the error limit).</summary>
    private Step AfterJunk()
    {
        if (_junk <= _context.Settings.JunkCommandLimit || ++_errors < MaxErrors)
        {
            return Step.Continue;
        }

        Reply(SmtpReplies.TooManyErrors);
        return Step.Close;
    }

    /// <summary>
    /// True when the session holds its channel without using it: reading commands, outside a mail
    /// transaction, no TLS handshake, and no useful command since <paramref name="idleSince"/>.
    /// Read from the listener's thread: a stale answer is checked again by the session itself.
    /// </summary>
    public bool IsIdleSince(long idleSince) =>
        _transportOrNull is not null
        && Volatile.Read(ref _slot) is not null
        && Volatile.Read(ref _handshaking) == 0
        && _mode == Mode.Commands
        && State is SmtpState.WaitHelo or SmtpState.WaitMail
        && LastUseful <= idleSince;

    /// <summary>
    /// Asks the session to give its channel to a waiting connection: its pending read is cancelled,
    /// and it answers 421 4.3.2 and closes if it is still idle then (<see cref="ShedNow"/>).
    /// </summary>
    public bool TryShed(long idleSince)
    {
        if (!IsIdleSince(idleSince) || Interlocked.CompareExchange(ref _shed, 1, 0) != 0)
        {
            return false;
        }

        Volatile.Write(ref _shedIdleSince, idleSince);
        _transportOrNull?.Input.CancelPendingRead();
        return true;
    }

    private long _shedIdleSince;

    /// <summary>For a session going back to its pool: no junk counted, no request to give up the channel.</summary>
    private void ResetStress()
    {
        _junk = 0;
        _shed = 0;
        _shedIdleSince = 0;
    }

    /// <summary>
    /// On a cancelled read: null when the listener did not ask for the channel, true when it did and
    /// the session is still idle (it closes), false when it did but a command came in meanwhile.
    /// </summary>
    private bool? ShedRequested()
    {
        if (Volatile.Read(ref _shed) != 1)
        {
            return null;
        }

        if (!IsIdleSince(Volatile.Read(ref _shedIdleSince)))
        {
            Volatile.Write(ref _shed, 0);
            return false;
        }

        Volatile.Write(ref _shed, 2);
        _context.Timeouts.Shed.Increment();
        _context.Log.Write(LogTag.Channel(_channelNumber), "Closed: idle while every channel is busy, channel given to a waiting connection"u8);
        return true;
    }

    /// <summary>An accepted message: the junk count starts again (Postfix forgives the same way).</summary>
    private void MessageAccepted()
    {
        _junk = 0;
        MarkUseful();
    }
}
