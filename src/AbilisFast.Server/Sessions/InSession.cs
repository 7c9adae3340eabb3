using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using AbilisFast.Protocol.Data;
using AbilisFast.Protocol.Lines;
using AbilisFast.Protocol.Replies;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Channels;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Spool;
using AbilisFast.Server.Transport;
using Microsoft.Extensions.ObjectPool;

namespace AbilisFast.Server.Sessions;

/// <summary>
/// One inbound SMTP session. The read loop takes every complete line in the buffer before reading
/// again (pipelining), answers into the output pipe, and flushes only when the input runs dry or an
/// asynchronous step (the spool's group commit) has to be awaited. Instances are pooled and reset
/// between sessions; the per-transaction state lives in reusable buffers.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "Sessions are pooled: the envelope builder is reset for each transaction (its buffer returned) and lives as long as the session object.")]
internal sealed partial class InSession : IResettable
{
    /// <summary>Negative replies a session may earn before it is closed with 421 (flow-control 452s excluded).</summary>
    public const int MaxErrors = 20;

    private readonly SmtpContext _context;
    private readonly EnvelopeBuilder _envelope = new();
    private HeloName _helo;

    private ISessionTransport? _transportOrNull;
    private SmtpChannel? _channel;
    private int _channelNumber;
    private ISessionSlot? _slot;
    private IPAddress _remote = IPAddress.None;
    private PipeWriter _output = null!;

    /// <summary>The transport of the running session (only valid while RunAsync runs).</summary>
    private ISessionTransport Transport => _transportOrNull!;
    private Mode _mode;
    private bool _closing;
    private bool _relayAllowed;
    private int _errors;
    private long _lastActivity;
    private int _shutdown;
    private int _handshaking;

    private enum Mode : byte
    {
        Commands,
        DiscardLine,
        Data,
        Bdat,
    }

    /// <summary>What the synchronous part of the loop needs the asynchronous part to do next.</summary>
    private enum Step : byte
    {
        Continue,
        Commit,
        Close,

        /// <summary>220 for STARTTLS is queued: flush it, drop buffered plaintext, run the handshake.</summary>
        StartTls,

        /// <summary>AUTH credentials are complete: check them off the I/O thread.</summary>
        Authenticate,
    }

    public InSession(SmtpContext context, ChannelStress? stress = null)
    {
        _context = context;
        _stress = stress;
    }

    public SmtpState State { get; private set; } = SmtpState.Ready;

    /// <summary>Milliseconds (Environment.TickCount64) of the last complete command line or DATA progress.</summary>
    public long LastActivity => Volatile.Read(ref _lastActivity);

    /// <summary>
    /// Runs the session to its end. The caller owns the transport and the channel; the session
    /// updates the channel's display state as it goes.
    /// </summary>
    /// <param name="implicitTls">The TLS port: the handshake runs before the greeting.</param>
    /// <param name="submission">The submission rules apply (SUBMISSION-PORT, or TLS-PORT with SUBMISSION-TLS).</param>
    /// <param name="slot">Released (<see cref="EndOfSession"/>) once the session knows it ends, before its last reply goes out.</param>
    public async Task RunAsync(ISessionTransport transport, SmtpChannel? channel, Func<ValueTask>? beforeGreeting = null, bool implicitTls = false, ISessionSlot? slot = null,
        bool submission = false)
    {
        _submission = submission;
        if (!await BeginAsync(transport, channel, beforeGreeting, implicitTls, slot).ConfigureAwait(false))
        {
            return;
        }

        // The read loop is written out here rather than in a method of its own: every session waiting
        // for its next command holds one asynchronous frame less (about 190 bytes).
        try
        {
            while (!_closing)
            {
                if (ShutsDownBetweenCommands())
                {
                    await FlushAsync().ConfigureAwait(false);
                    return;
                }

                PipeReader input = Transport.Input;
                ReadResult result;
                try
                {
                    result = await input.ReadAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (IsConnectionError(e))
                {
                    return;
                }

                if (result.IsCanceled)
                {
                    if (await GoesOnAfterCancelAsync(input, result).ConfigureAwait(false))
                    {
                        continue;
                    }

                    return;
                }

                if (!await HandleInputAsync(input, result).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        finally
        {
            AbortMessage();

            // The client closed first, or the loop ended on an error: free the slot now, before
            // the caller tears the connection down.
            EndOfSession();
        }
    }

    /// <summary>
    /// The commands of one read (their replies flushed together), then STARTTLS's handshake; false
    /// when the session ends. Awaited only while there is input, so a session waiting for its next
    /// command holds no frame of this method.
    /// </summary>
    private async Task<bool> HandleInputAsync(PipeReader input, ReadResult result)
    {
        ReadOnlySequence<byte> buffer = result.Buffer;
        Step step;
        try
        {
            // The end of a message (its commit) and AUTH (the password check) are awaited here,
            // then the pipelined commands after them go on; any other step ends this buffer.
            while ((step = Process(ref buffer)) is Step.Commit or Step.Authenticate)
            {
                if (step == Step.Commit)
                {
                    await CommitAsync().ConfigureAwait(false);
                }
                else
                {
                    await AuthenticateAsync().ConfigureAwait(false);
                }

                if (_closing)
                {
                    break;
                }
            }
        }
        finally
        {
            input.AdvanceTo(buffer.Start, buffer.End);
        }

        bool startTls = EndOfBuffer(step);

        if (!await FlushAsync().ConfigureAwait(false))
        {
            return false;
        }

        // After STARTTLS the session goes on over TLS unless the handshake failed; otherwise it
        // ends when the client has closed its side.
        return startTls ? await HandshakeAsync().ConfigureAwait(false) : !result.IsCompleted;
    }

    /// <summary>Everything before the first command: the transport taken, the handshake of the TLS port, the pre-greeting check and the 220; false when the session ends there.</summary>
    private async Task<bool> BeginAsync(ISessionTransport transport, SmtpChannel? channel, Func<ValueTask>? beforeGreeting, bool implicitTls, ISessionSlot? slot)
    {
        // Fresh timestamps before the transport is visible to the heartbeat and the listener.
        Touch();
        MarkUseful();
        _transportOrNull = transport;
        _output = transport.Output;
        _channel = channel;
        _channelNumber = channel?.Number ?? 0;
        _slot = slot;
        _remote = transport.RemoteEndPoint is { } remote ? PeerAddress.Normalize(remote.Address) : IPAddress.None;

        _relayAllowed = _context.Settings.RelayNets.Contains(_remote);
        SetState(SmtpState.WaitHelo);

        if (beforeGreeting is not null)
        {
            await beforeGreeting().ConfigureAwait(false);
        }

        if (implicitTls && !await HandshakeAsync().ConfigureAwait(false))
        {
            return false;
        }

        // Under implicit TLS the socket may hold TLS records the client sent with its handshake:
        // the pre-greeting check only applies to plaintext.
        if (!transport.IsSecure && transport.HasPendingInput)
        {
            Reply(SmtpReplies.PreGreeting);
            EndOfSession();
            await FlushAsync().ConfigureAwait(false);
            return false;
        }

        Reply(_context.Greeting);
        return await FlushAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The session is ending: its channel and MAX-IP-SES place go back now, before the last reply
    /// is flushed and the connection closed, so a client that reconnects as soon as it reads the
    /// 221 (smtp-source does) finds them free. From here on the session no longer touches the
    /// channel; the heartbeat still watches it until the server has closed the connection.
    /// </summary>
    private void EndOfSession()
    {
        ISessionSlot? slot = _slot;
        _slot = null;
        _channel = null;
        slot?.Release();
    }


    /// <summary>
    /// The server is stopping and the session is between commands: the 421 is queued and the slot
    /// freed (true; the caller flushes and ends), else false.
    /// </summary>
    private bool ShutsDownBetweenCommands()
    {
        if (Volatile.Read(ref _shutdown) == 0 || _mode != Mode.Commands)
        {
            return false;
        }

        Reply(SmtpReplies.ShuttingDown);
        EndOfSession();
        return true;
    }

    /// <summary>
    /// After a buffer's commands: a closing session (221 to QUIT, or a 421) frees its slot before the
    /// client can read the reply; true after STARTTLS. Whatever follows the STARTTLS line stays
    /// unconsumed and is thrown away with the plaintext reader (CVE-2011-0411): it is never executed.
    /// </summary>
    private bool EndOfBuffer(Step step)
    {
        _closing |= step == Step.Close;
        if (_closing)
        {
            EndOfSession();
        }

        return step == Step.StartTls;
    }

    /// <summary>
    /// A read was cancelled: by a timeout (the 421 and its log line are sent; false), by a shutdown
    /// (true: the loop says 421 at its next turn, once between commands) or by the end of the session (false).
    /// </summary>
    private async ValueTask<bool> GoesOnAfterCancelAsync(PipeReader input, ReadResult result)
    {
        switch (ShedRequested())
        {
            case true:
                Reply(SmtpReplies.BusyClosingIdle);
                EndOfSession();
                await FlushAsync().ConfigureAwait(false);
                return false;
            case false when Volatile.Read(ref _timeoutReason) == 0 && Volatile.Read(ref _shutdown) == 0:
                // The listener asked too late (a command came in meanwhile): read on.
                input.AdvanceTo(result.Buffer.Start);
                return true;
        }

        if (Volatile.Read(ref _timeoutReason) != 0)
        {
            LogTimeout();
            Reply(SmtpReplies.Timeout);
            EndOfSession();
            await FlushAsync().ConfigureAwait(false);
            return false;
        }

        return Volatile.Read(ref _shutdown) != 0;
    }

    /// <summary>Consumes as much of <paramref name="buffer"/> as the current mode allows.</summary>
    private Step Process(ref ReadOnlySequence<byte> buffer)
    {
        Span<byte> scratch = stackalloc byte[LineReader.MaxCommandLine];
        while (!buffer.IsEmpty)
        {
            switch (_mode)
            {
                case Mode.Data:
                    if (ProcessData(ref buffer))
                    {
                        return Step.Commit;
                    }

                    break;
                case Mode.Bdat:
                    Step chunk = ProcessBdat(ref buffer);
                    if (chunk != Step.Continue)
                    {
                        return chunk;
                    }

                    break;
                case Mode.DiscardLine:
                    if (SkipLongLine(ref buffer) == Step.Close)
                    {
                        return Step.Close;
                    }

                    break;
                default:
                    LineStatus status = LineReader.TryRead(ref buffer, scratch, LineReader.MaxCommandLine, out ReadOnlySpan<byte> line, out LineFlags flags);
                    if (status == LineStatus.Incomplete)
                    {
                        return Step.Continue;
                    }

                    if (status == LineStatus.TooLong)
                    {
                        _mode = Mode.DiscardLine;
                        break;
                    }

                    Step next = CommandLine(line, flags);
                    if (next != Step.Continue)
                    {
                        return next;
                    }

                    break;
            }
        }

        return Step.Continue;
    }

    /// <summary>
    /// The rest of a command line over the cap: skipped up to its end, then refused as a
    /// whole; Close when that error was one too many.
    /// </summary>
    private Step SkipLongLine(ref ReadOnlySequence<byte> buffer)
    {
        if (!LineReader.SkipLine(ref buffer))
        {
            return Step.Continue;
        }

        _mode = Mode.Commands;
        _authStage = AuthStage.None;
        return Error(SmtpReplies.LineTooLong);
    }

    /// <summary>One complete command line (or AUTH response); a line with a bare CR or LF is refused.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Step CommandLine(ReadOnlySpan<byte> line, LineFlags flags)
    {
        Touch();
        if (flags != LineFlags.None)
        {
            _authStage = AuthStage.None;
            return Error(SmtpReplies.BareLineEnd);
        }

        return _authStage != AuthStage.None ? AuthResponse(line) : Execute(line);
    }

    private void Touch() => Volatile.Write(ref _lastActivity, Environment.TickCount64);

    /// <summary>Server stopping: an idle session gets 421 4.3.2 now, one inside a message after it.</summary>
    public void SignalShutdown()
    {
        if (Interlocked.Exchange(ref _shutdown, 1) == 0 && _mode == Mode.Commands && Volatile.Read(ref _handshaking) == 0)
        {
            _transportOrNull?.Input.CancelPendingRead();
        }
    }

    /// <summary>Drops the connection at once (shutdown deadline passed).</summary>
    public void Abort() => _transportOrNull?.Abort();

    private void SetState(SmtpState state)
    {
        State = state;
        if (_channel is not null)
        {
            _channel.SmtpState = state;
        }
    }

    private void Reply(ReadOnlySpan<byte> reply)
    {
        _output.Write(reply);
        if (_context.Log.Verbose)
        {
            // One log line per reply line, without its CRLF.
            foreach (Range range in reply.Split("\r\n"u8))
            {
                if (range.End.GetOffset(reply.Length) > range.Start.GetOffset(reply.Length))
                {
                    Trace("-> "u8, reply[range]);
                }
            }
        }
    }

    /// <summary>The debug trace (console <c>debug res:smtp lsn:1</c>): one ring-log line per command and reply line.</summary>
    private void Trace(ReadOnlySpan<byte> direction, ReadOnlySpan<byte> text)
    {
        Span<byte> line = stackalloc byte[SessionLog.MaxLineLength];
        int n = Math.Min(direction.Length, line.Length);
        direction[..n].CopyTo(line);
        int rest = Math.Min(text.Length, line.Length - n);
        text[..rest].CopyTo(line[n..]);
        _context.Log.Write(LogTag.Channel(_channelNumber), line[..(n + rest)]);
    }

    /// <summary>Sends a negative reply and counts it; Close when the error limit is reached (421 sent).</summary>
    private Step Error(ReadOnlySpan<byte> reply)
    {
        Reply(reply);
        if (++_errors < MaxErrors)
        {
            return Step.Continue;
        }

        Reply(SmtpReplies.TooManyErrors);
        return Step.Close;
    }

    /// <summary>Sends what the replies buffered; false when the peer is gone. No state machine unless the flush really waits.</summary>
    private ValueTask<bool> FlushAsync()
    {
        if (_output.UnflushedBytes == 0)
        {
            return new ValueTask<bool>(true);
        }

        ValueTask<FlushResult> flush;
        try
        {
            flush = _output.FlushAsync();
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            return new ValueTask<bool>(false);
        }

        if (flush.IsCompletedSuccessfully)
        {
            FlushResult result = flush.Result;
            return new ValueTask<bool>(!result.IsCompleted && !result.IsCanceled);
        }

        return AwaitFlushAsync(flush);
    }

    private static async ValueTask<bool> AwaitFlushAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            FlushResult result = await flush.ConfigureAwait(false);
            return !result.IsCompleted && !result.IsCanceled;
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            return false;
        }
    }

    private static bool IsConnectionError(Exception e) =>
        e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or OperationCanceledException;

    public bool TryReset()
    {
        AbortMessage();
        _envelope.Reset();
        _transportOrNull = null;
        _output = null!;
        _channel = null;
        _channelNumber = 0;
        _slot = null;
        _remote = IPAddress.None;
        _mode = Mode.Commands;
        _closing = false;
        _relayAllowed = false;
        _submission = false;
        _headerScan.Reset();
        _errors = 0;
        _helo.Release();
        _shutdown = 0;
        _handshaking = 0;
        ResetDeadlines();
        ResetStress();
        ResetAuth();
        State = SmtpState.Ready;
        ResetTransaction();
        return true;
    }
}
