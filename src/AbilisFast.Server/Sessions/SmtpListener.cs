using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using AbilisFast.Protocol.Replies;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Access;
using AbilisFast.Server.Channels;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Sessions;
using AbilisFast.Server.Transport;
using Microsoft.Extensions.ObjectPool;

namespace AbilisFast.Server.Sessions;

/// <summary>
/// The SMTP listener: accepts connections, applies the access rules in the order
/// IPBAN ► IPSRC/IPSRCLIST ► MAX-IP-SES ► free channel, and runs a pooled session on the channel.
/// One heartbeat timer enforces DT, DATA-TIMEOUT and MIN-DATA-RATE for every session.
/// </summary>
/// <remarks>
/// A session gives its channel and MAX-IP-SES place back before its last reply (221, 421) goes out
/// (<see cref="ISessionSlot"/>), and a connection that finds neither free waits up to
/// <see cref="DefaultAdmissionWait"/> for one before it is answered 421, as a client waits in Postfix's
/// listen backlog for a free smtpd: a client that closes and reconnects at once is never refused
/// for a slot its own previous connection still held.
/// </remarks>
internal sealed class SmtpListener : IAsyncDisposable
{
    /// <summary>How long a connection waits for a MAX-IP-SES place or a channel before its 421.</summary>
    public static readonly TimeSpan DefaultAdmissionWait = TimeSpan.FromSeconds(1);

    /// <summary>At most this many connections wait at once; past that a refusal is immediate (a flood holds no more sockets).</summary>
    public const int MaxWaitingConnections = 16;

    /// <summary>
    /// Ended sessions kept for reuse: enough for any steady rate of new connections (a session is
    /// reused as soon as the next connection comes), while a burst of thousands of sessions does not
    /// leave thousands of session objects behind once it is over.
    /// </summary>
    public const int MaxPooledSessions = 64;

    private readonly SmtpContext _context;
    private readonly IBanList _bans;
    private readonly IpSessionLimiter _limiter = new();
    private readonly ChannelStress _stress = new();

    /// <summary>Pulsed after each MAX-IP-SES place is given back (<see cref="LeavePlace"/>).</summary>
    private readonly ReleaseSignal _placeFreed = new();
    private readonly DefaultObjectPool<InSession> _sessions;

    /// <summary>Sessions from accept to the close of their connection (the heartbeat's list); a session that has released its channel stays here until then.</summary>
    private readonly ConcurrentDictionary<InSession, byte> _live = new();
    private int _waiting;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Socket? _listener;
    private Socket? _tlsListener;
    private Socket? _submissionListener;
    private Task? _acceptLoop;
    private Task? _tlsAcceptLoop;
    private Task? _submissionAcceptLoop;
    private ITimer? _heartbeat;
    private int _running;

    public SmtpListener(SmtpContext context, IBanList? bans = null)
    {
        _context = context;
        _bans = bans ?? context.Bans;

        // Sessions report failed AUTH attempts to the same IPBAN that drops banned addresses here.
        context.Bans = _bans;
        _sessions = new DefaultObjectPool<InSession>(new InSessionPolicy(context, _stress), Math.Min(context.Settings.SesTot, MaxPooledSessions));
    }

    public SmtpContext Context => _context;

    /// <summary>Whether a connection recently found every channel busy (shorter DT, junk limit 1, idle sessions shed).</summary>
    internal ChannelStress Stress => _stress;

    /// <summary>False when ACT:NO kept the listener closed.</summary>
    public bool IsListening => _listener is not null;

    /// <summary>The address actually bound (useful when the port was 0).</summary>
    public IPEndPoint? LocalEndPoint => _listener?.LocalEndPoint as IPEndPoint;

    /// <summary>The implicit TLS port actually bound (TLS-PORT), or null.</summary>
    public IPEndPoint? TlsLocalEndPoint => _tlsListener?.LocalEndPoint as IPEndPoint;

    /// <summary>The submission port actually bound (SUBMISSION-PORT), or null.</summary>
    public IPEndPoint? SubmissionLocalEndPoint => _submissionListener?.LocalEndPoint as IPEndPoint;

    /// <summary>
    /// Runs on every heartbeat, after the DT check (the systemd watchdog ping): if the heartbeat is
    /// stuck, so is the ping. Set before <see cref="Start"/>.
    /// </summary>
    public Action? OnHeartbeat { get; set; }

    /// <summary>The heartbeat period (1 s; shorter when a short systemd watchdog asks for it). Set before <see cref="Start"/>.</summary>
    public TimeSpan HeartbeatPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a connection waits at accept for a MAX-IP-SES place or a channel (tests change it).</summary>
    internal TimeSpan AdmissionWait { get; set; } = DefaultAdmissionWait;

    /// <summary>Test seam: awaited after accept and before the greeting (pre-greeting tests).</summary>
    internal Func<ValueTask>? BeforeGreeting { get; set; }

    /// <summary>
    /// Binds TCP-LOCPORT on every address (IPv6 dual-stack when available) and starts accepting;
    /// with TLS-PORT (or <paramref name="tlsBind"/>) and a certificate, also the implicit TLS port,
    /// whose connections pass the same access rules and take channels from the same pool; with
    /// SUBMISSION-PORT (or <paramref name="submissionBind"/>), the submission port, likewise.
    /// </summary>
    public void Start(IPEndPoint? bind = null, IPEndPoint? tlsBind = null, IPEndPoint? submissionBind = null)
    {
        _context.Log.Write(LogTag.Port, "Starting server..."u8);

        // The heartbeat runs even with ACT:NO: it also feeds the systemd watchdog.
        _heartbeat = _context.Time.CreateTimer(_ => Heartbeat(), null, HeartbeatPeriod, HeartbeatPeriod);
        if (!_context.Settings.Active)
        {
            // ACT:NO: no TCP calls accepted (nor made); every channel shows INACTIVE.
            foreach (SmtpChannel channel in _context.Channels.Channels)
            {
                channel.SmtpState = SmtpState.Inactive;
            }

            _context.Log.Write(LogTag.Port, "Resource inactive (ACT:NO): not listening"u8);
            return;
        }

        BindAll(bind, tlsBind, submissionBind);
        List<IPEndPoint> listening = [LocalEndPoint!];
        if (TlsLocalEndPoint is { } tls)
        {
            listening.Add(tls);
        }

        if (SubmissionLocalEndPoint is { } submission)
        {
            listening.Add(submission);
        }

        _context.ListeningEndPoints = listening;
        foreach (SmtpChannel channel in _context.Channels.Channels)
        {
            LogChannel(channel, "Waiting events (listen or wake-up)"u8);
        }

        _acceptLoop = Listener.AcceptLoopAsync(_listener!, client => Admit(client, implicitTls: false), _stopping.Token);
        if (_tlsListener is not null)
        {
            _tlsAcceptLoop = Listener.AcceptLoopAsync(_tlsListener, client => Admit(client, implicitTls: true), _stopping.Token);
        }

        if (_submissionListener is not null)
        {
            _submissionAcceptLoop = Listener.AcceptLoopAsync(_submissionListener, client => Admit(client, implicitTls: false, submission: true), _stopping.Token);
        }
    }

    /// <summary>Binds TCP-LOCPORT, then TLS-PORT and SUBMISSION-PORT when set; on a failure none stays bound.</summary>
    private void BindAll(IPEndPoint? bind, IPEndPoint? tlsBind, IPEndPoint? submissionBind)
    {
        _listener = Listener.Bind(bind ?? new IPEndPoint(IPAddress.IPv6Any, _context.Settings.TcpLocPort), backlog: 512);
        try
        {
            if (_context.Tls is not null && (tlsBind ?? (_context.Settings.TlsPort is int tlsPort ? new IPEndPoint(IPAddress.IPv6Any, tlsPort) : null)) is { } tlsEndPoint)
            {
                _tlsListener = Listener.Bind(tlsEndPoint, backlog: 512);
            }

            int submissionPort = _context.Settings.SubmissionPort;
            if ((submissionBind ?? (submissionPort > 0 ? new IPEndPoint(IPAddress.IPv6Any, submissionPort) : null)) is { } submissionEndPoint)
            {
                _submissionListener = Listener.Bind(submissionEndPoint, backlog: 512);
            }
        }
        catch
        {
            _tlsListener?.Dispose();
            _tlsListener = null;
            _listener.Dispose();
            _listener = null;
            throw;
        }
    }

    /// <summary>The submission rules apply on the submission port, and on the TLS port with SUBMISSION-TLS:YES.</summary>
    private bool IsSubmission(bool implicitTls, bool submission) => submission || (implicitTls && _context.Settings.SubmissionTls);

    private void Admit(Socket client, bool implicitTls, bool submission = false)
    {
        IPAddress address = PeerAddress.Of(client);
        if (_bans.IsBanned(address))
        {
            _context.Counters.Increment(SmtpCounter.BannedIp, Direction.In);
            client.Dispose();
            return;
        }

        // Refusals are plaintext SMTP replies; on the TLS port the client expects a handshake, so it is just closed.
        if (!_context.Settings.IpSrcAllowed.Contains(address))
        {
            _context.Counters.Increment(SmtpCounter.DeniedIp, Direction.In);
            _ = RefuseAsync(client, implicitTls ? null : SmtpReplies.AccessDenied.ToArray());
            return;
        }

        // MAX-IP-SES counts an IPv6 client by its IPV6-PREFIX-SES network (a /64 by default).
        IPAddress place = PeerAddress.CountingKey(address, _context.Settings.Ipv6PrefixSes);
        bool placeTaken = _limiter.TryEnter(place, _context.Settings.MaxIpSes);
        if (placeTaken && _context.Channels.TryAcquireIn(out SmtpChannel channel))
        {
            StartSession(client, channel, address, place, implicitTls, submission);
            return;
        }

        if (Interlocked.Increment(ref _waiting) <= MaxWaitingConnections && !_stopping.IsCancellationRequested)
        {
            _ = WaitForSlotAsync(client, address, place, implicitTls, placeTaken, submission);
            return;
        }

        Interlocked.Decrement(ref _waiting);
        Refuse(client, place, implicitTls, placeTaken);
    }

    /// <summary>
    /// No MAX-IP-SES place or no channel at accept: waits up to <see cref="AdmissionWait"/> (1 s) for one
    /// to be released (each release wakes the waiters), then starts the session or refuses with the
    /// 421 that applies.
    /// </summary>
    private async Task WaitForSlotAsync(Socket client, IPAddress address, IPAddress place, bool implicitTls, bool placeTaken, bool submission)
    {
        InSession? asked = null;
        try
        {
            Task timeout = Task.Delay(AdmissionWait, _stopping.Token);
            while (true)
            {
                // Read the wake-ups before trying, so a release between the try and the wait is not missed.
                Task placeFreed = _placeFreed.Next;
                Task channelFreed = _context.Channels.Released.Next;
                placeTaken = placeTaken || _limiter.TryEnter(place, _context.Settings.MaxIpSes);
                if (placeTaken && !_stopping.IsCancellationRequested && _context.Channels.TryAcquireIn(out SmtpChannel channel))
                {
                    StartSession(client, channel, address, place, implicitTls, submission);
                    return;
                }

                if (timeout.IsCompleted || _stopping.IsCancellationRequested)
                {
                    break;
                }

                if (!placeTaken)
                {
                    await Task.WhenAny(placeFreed, timeout).ConfigureAwait(false);
                    continue;
                }

                // Every channel is busy and this client waits: stress. One idle session gives its
                // channel up for it; until one qualifies, look again every quarter second.
                if (_stress.Signal())
                {
                    _context.Log.Write(LogTag.Port, "All channels busy: DT 10 s, junk limit 1, idle sessions closed for waiting connections"u8);
                }

                // Ask again only when the session asked went on instead (a command came in meanwhile).
                if (asked is null || asked.ShedDeclined)
                {
                    asked = ShedOneIdleSession();
                }

                await Task.WhenAny(channelFreed, timeout, Task.Delay(ShedRetry, _stopping.Token)).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        Refuse(client, place, implicitTls, placeTaken);
    }

    /// <summary>How often a connection waiting for a channel looks again for an idle session to close.</summary>
    private static readonly TimeSpan ShedRetry = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Asks the session that has been idle longest (outside a mail transaction, nothing useful for
    /// <see cref="ChannelStress.ShedAfter"/>) to close and give its channel up; the session asked,
    /// or null when none qualifies.
    /// </summary>
    private InSession? ShedOneIdleSession()
    {
        long idleSince = System.Diagnostics.Stopwatch.GetTimestamp() - (long)(ChannelStress.ShedAfter.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        List<(long LastUseful, InSession Session)> idle = [];
        foreach (KeyValuePair<InSession, byte> live in _live)
        {
            if (live.Key.IsIdleSince(idleSince))
            {
                idle.Add((live.Key.LastUseful, live.Key));
            }
        }

        // Oldest first; one already asked by another waiting connection, or busy again, is passed over.
        idle.Sort(static (a, b) => a.LastUseful.CompareTo(b.LastUseful));
        foreach ((_, InSession session) in idle)
        {
            if (session.TryShed(idleSince))
            {
                return session;
            }
        }

        return null;
    }

    /// <summary>421 4.7.0 (MAX-IP-SES) or 421 4.3.2 (no channel), counted CALL-FAIL; the place is given back when it was taken.</summary>
    private void Refuse(Socket client, IPAddress place, bool implicitTls, bool placeTaken)
    {
        if (placeTaken)
        {
            LeavePlace(place);
        }

        _context.Counters.Increment(SmtpCounter.CallFail, Direction.In);
        ReadOnlySpan<byte> reply = placeTaken ? SmtpReplies.NoChannel : SmtpReplies.TooManyFromIp;
        _ = RefuseAsync(client, implicitTls ? null : reply.ToArray());
    }

    private void LeavePlace(IPAddress address)
    {
        _limiter.Leave(address);
        _placeFreed.Pulse();
    }

    private void StartSession(Socket client, SmtpChannel channel, IPAddress address, IPAddress place, bool implicitTls, bool submission)
    {
        _context.Count(channel, SmtpCounter.CallSucc, Direction.In);
        _ = RunSessionAsync(client, channel, address, place, implicitTls, IsSubmission(implicitTls, submission));
    }

    private async Task RunSessionAsync(Socket client, SmtpChannel channel, IPAddress address, IPAddress place, bool implicitTls, bool submission)
    {
        Interlocked.Increment(ref _running);
        InSession session = _sessions.Get();
        var slot = new SessionSlot(this, channel, place);
        try
        {
            await using var transport = new SocketTransport(client, _context.BufferPool, address);
            channel.LocalEndPoint = transport.LocalEndPoint;
            channel.RemoteEndPoint = transport.RemoteEndPoint;
            channel.TcpState = TcpState.Connected;
            LogChannel(channel, $"Start in-bound {(submission ? "submission " : string.Empty)}session from {PeerAddress.FormatForLog(transport.RemoteEndPoint ?? new IPEndPoint(address, 0))}");
            _live[session] = 0;
            if (_stopping.IsCancellationRequested)
            {
                session.SignalShutdown();
            }

            await session.RunAsync(transport, channel, BeforeGreeting, implicitTls, slot, submission).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A session must never take the server down; the log names what went wrong.
            LogChannel(channel, $"Session ended by error: {e.GetType().Name}");
        }
        finally
        {
            // Normally released already, before the session's last reply; here when it ended otherwise.
            slot.Release();
            _live.TryRemove(session, out _);
            _sessions.Return(session);
            if (Interlocked.Decrement(ref _running) == 0 && _stopping.IsCancellationRequested)
            {
                _drained.TrySetResult();
            }
        }
    }

    /// <summary>A session's channel and MAX-IP-SES place (its counting key); released once, by the session or at teardown.</summary>
    private sealed class SessionSlot(SmtpListener server, SmtpChannel channel, IPAddress place) : ISessionSlot
    {
        private int _released;

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            server.LeavePlace(place);
            server.LogChannel(channel, "Waiting events (listen or wake-up)"u8);
            server._context.Channels.Release(channel);
        }
    }

    private static async Task RefuseAsync(Socket client, byte[]? reply)
    {
        try
        {
            if (reply is null)
            {
                return;
            }

            await client.SendAsync(reply, SocketFlags.None).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
        }
    }

    /// <summary>
    /// Once a second: every session checks its deadlines (DT, DATA-TIMEOUT, MIN-DATA-RATE) against
    /// its own timestamps; one that has passed one gets 421 4.4.2 and is closed; then <see cref="OnHeartbeat"/>.
    /// </summary>
    private void Heartbeat()
    {
        SmtpSettings settings = _context.Settings;
        long now = Environment.TickCount64;
        foreach (KeyValuePair<InSession, byte> live in _live)
        {
            live.Key.CheckDeadlines(now, settings);
        }

        OnHeartbeat?.Invoke();
    }

    private void LogChannel(SmtpChannel channel, ReadOnlySpan<byte> text) => _context.Log.Write(LogTag.Channel(channel.Number), text);

    private void LogChannel(SmtpChannel channel, string text) => _context.Log.Write(LogTag.Channel(channel.Number), text);

    /// <summary>
    /// Graceful stop: no new connections; idle sessions get 421 4.3.2 at once; a session in the
    /// middle of a message may finish it until <paramref name="deadline"/>, then it is dropped.
    /// </summary>
    public async Task StopAsync(TimeSpan deadline)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        _listener?.Dispose();
        _tlsListener?.Dispose();
        _submissionListener?.Dispose();
        foreach (Task? loop in (Task?[])[_acceptLoop, _tlsAcceptLoop, _submissionAcceptLoop])
        {
            if (loop is not null)
            {
                await loop.ConfigureAwait(false);
            }
        }

        foreach (KeyValuePair<InSession, byte> live in _live)
        {
            live.Key.SignalShutdown();
        }

        if (Volatile.Read(ref _running) == 0)
        {
            _drained.TrySetResult();
        }

        if (await Task.WhenAny(_drained.Task, Task.Delay(deadline)).ConfigureAwait(false) != _drained.Task)
        {
            foreach (KeyValuePair<InSession, byte> live in _live)
            {
                live.Key.Abort();
            }

            await Task.WhenAny(_drained.Task, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        }

        if (_heartbeat is not null)
        {
            await _heartbeat.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _stopping.Dispose();
    }
}
