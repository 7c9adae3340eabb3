using System.Collections.Concurrent;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Channels;
using AbilisFast.Server.Mailboxes;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Spool;
using AbilisFast.Server.Submission;

namespace AbilisFast.Server.Delivery;

/// <summary>
/// The OUT side. A dispatcher starts an OUT session on a free OUT channel (reserved OUT first, then
/// shared) whenever QUEUE-OUT holds messages; each session takes messages from QUEUE-OUT until it is
/// empty, delivers each one (local mailboxes, the relay server or the MX hosts of each domain) and
/// keeps its last SMTP connection open for the next message to the same host. Temporary failures move
/// a message to QUEUE-DEFER; a timer brings it back when its retry is due. A message leaves the spool
/// only when every recipient is delivered or has failed for good (and its notification is queued).
/// </summary>
internal sealed partial class DeliveryEngine : IAsyncDisposable, IQueueControl
{
    private readonly SmtpContext _context;
    private readonly IMailRouteResolver _resolver;
    private readonly MaildirStore _mailboxes;
    private readonly ConcurrentDictionary<uint, DeliveryState> _states = new();
    private readonly ConcurrentDictionary<uint, byte> _notifications = new();
    private readonly ConcurrentDictionary<uint, QueuedMessage> _inFlight = new();
    private readonly ConcurrentDictionary<uint, QueuedMessage> _held = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Signing.DkimSigner _dkim;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abort = new();
    private Task _dispatcher = Task.CompletedTask;
    private int _sessions;
    private int _starting;

    public DeliveryEngine(SmtpContext context, IMailRouteResolver resolver, MaildirStore mailboxes)
    {
        _context = context;
        _resolver = resolver;
        _mailboxes = mailboxes;
        _dkim = new Signing.DkimSigner(context.Time);
        context.QueueControl = this;
        context.Queue.MessageQueued += Wake;
        context.Queue.MessageDeferred += Wake;
    }

    /// <summary>OUT sessions running now.</summary>
    public int Sessions => Volatile.Read(ref _sessions);

    /// <summary>Failure notifications waiting in the queue (capped by MAX-FAIL-NOTIF).</summary>
    public int QueuedNotifications => _notifications.Count;

    /// <summary>Timeout of the SMTP client's connect (never longer than OUT-TIMEOUT); tests shorten it.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Reply timeout of the SMTP client; null = OUT-TIMEOUT, read at each connection (live).</summary>
    public TimeSpan? CommandTimeout { get; init; }

    /// <summary>Timeout for the reply to the final dot; null = twice OUT-TIMEOUT.</summary>
    public TimeSpan? DataTimeout { get; init; }

    /// <summary>How often WDIR/pickup is looked at.</summary>
    public TimeSpan PickupInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Takes over a message found at start: its retry state (if a Retry record decodes) decides
    /// whether it waits in QUEUE-DEFER or goes to QUEUE-OUT at once.
    /// </summary>
    public void Recover(RecoveredMessage message)
    {
        var queued = new QueuedMessage(message.Id, message.BodyLength, message.CommitTime.ToUnixTimeMilliseconds());
        _mailboxes.ExpectRedelivery(message.Id); // a local delivery may have been done just before the crash
        if (Envelope.TryRead(message.Envelope, out Envelope? envelope))
        {
            if ((envelope!.Flags & EnvelopeFlags.Notification) != 0)
            {
                _notifications.TryAdd(message.Id, 0);
            }

            if (message.LastRetry is { } retry && DeliveryState.TryDecode(retry, envelope.Recipients.Count, out DeliveryState? state))
            {
                _states[message.Id] = state!;
                if (state!.Held)
                {
                    _held[message.Id] = queued;
                    return;
                }

                if (state.NextAttemptUnixMs > _context.Time.GetUtcNow().ToUnixTimeMilliseconds())
                {
                    _context.Queue.Defer(queued, state.NextAttemptUnixMs);
                    return;
                }
            }
        }

        _context.Queue.Enqueue(queued);
    }

    public void Start()
    {
        _dispatcher = Task.Run(DispatchLoopAsync);
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    private async Task DispatchLoopAsync()
    {
        DateTimeOffset nextPickup = DateTimeOffset.MinValue;
        while (!_stopping.IsCancellationRequested)
        {
            DateTimeOffset now = _context.Time.GetUtcNow();
            _context.Queue.PromoteDue(now.ToUnixTimeMilliseconds());
            if (now >= nextPickup)
            {
                nextPickup = now + PickupInterval;
                await ScanPickupAsync().ConfigureAwait(false);
            }

            StartSessions();

            TimeSpan wait = nextPickup - now;
            if (_context.Queue.NextDueUnixMs is long due)
            {
                TimeSpan untilDue = DateTimeOffset.FromUnixTimeMilliseconds(due) - now;
                wait = untilDue < wait ? untilDue : wait;
            }

            if (_context.Queue.OutCount > 0 && Volatile.Read(ref _starting) == 0 && CanDeliver)
            {
                // Messages wait but no channel is free: look again soon.
                wait = wait < TimeSpan.FromMilliseconds(20) ? wait : TimeSpan.FromMilliseconds(20);
            }

            try
            {
                await _wake.WaitAsync(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private bool CanDeliver => _context.Settings is { QueueHold: false, Active: true, Sink: false };

    private async Task ScanPickupAsync()
    {
        if (_context.Spool is null || _context.Settings.Sink)
        {
            return;
        }

        try
        {
            await PickupDirectory.ScanAsync(_context, _stopping.Token, NotifyPickupLoopAsync).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _context.Log.Write(LogTag.Port, $"Pickup scan failed: {e.Message}");
        }
    }

    /// <summary>Starts OUT sessions while messages wait that no starting session will take, and channels are free.</summary>
    private void StartSessions()
    {
        while (CanDeliver && !_stopping.IsCancellationRequested
            && _context.Queue.OutCount > Volatile.Read(ref _starting)
            && _context.Channels.TryAcquireOut(MaxSharedOut, out SmtpChannel channel))
        {
            Interlocked.Increment(ref _starting);
            Interlocked.Increment(ref _sessions);
            _ = Task.Run(() => RunSessionAsync(channel));
        }
    }

    /// <summary>
    /// OUT sessions take the reserved OUT channels, then at most half of the shared ones (one when
    /// there is no reserved OUT channel), so a burst of queued mail never takes every shared channel
    /// away from incoming sessions, nor opens dozens of connections to one relay server.
    /// </summary>
    private int MaxSharedOut
    {
        get
        {
            ChannelPool channels = _context.Channels;
            int half = channels.SharedCount / 2;
            return channels.ReservedOutCount == 0 ? Math.Max(half, Math.Min(1, channels.SharedCount)) : half;
        }
    }

    private async Task RunSessionAsync(SmtpChannel channel)
    {
        var session = new OutSession(this, channel);
        bool started = true;
        try
        {
            channel.TcpState = TcpState.Ready;
            channel.SmtpState = SmtpState.Start;
            _context.Log.Write(LogTag.Channel(channel.Number), "Start out-bound session");
            while (!_stopping.IsCancellationRequested && CanDeliver && _context.Queue.TryDequeue(out QueuedMessage message))
            {
                if (started)
                {
                    started = false;
                    Interlocked.Decrement(ref _starting);
                }

                _inFlight.TryAdd(message.Id, message);
                try
                {
                    await DeliverAsync(session, message).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_abort.IsCancellationRequested)
                {
                    // Shutdown: the message stays in the spool and is tried again after the restart.
                    break;
                }
                catch (Exception e)
                {
                    // Never lose a message to a bug: log it and retry it later.
                    _context.Log.Write(LogTag.Channel(channel.Number), $"Delivery of {SpoolIds.Format(message.Id)} failed unexpectedly: {e.GetType().Name}: {e.Message}");
                    _context.Queue.Defer(message, _context.Time.GetUtcNow().Add(_context.Settings.MailTryDelay).ToUnixTimeMilliseconds());
                }
                finally
                {
                    _inFlight.TryRemove(message.Id, out _);
                }
            }
        }
        finally
        {
            if (started)
            {
                Interlocked.Decrement(ref _starting);
            }

            await session.CloseAsync().ConfigureAwait(false);
            _context.Log.Write(LogTag.Channel(channel.Number), "End out-bound session");
            _context.Channels.Release(channel);
            Interlocked.Decrement(ref _sessions);
            Wake();
        }
    }

    /// <summary>Stops starting sessions; running deliveries get until <paramref name="deadline"/>, then are cut.</summary>
    public async Task StopAsync(TimeSpan deadline)
    {
        _stopping.Cancel();
        await _dispatcher.ConfigureAwait(false);
        DateTime until = DateTime.UtcNow + deadline;
        while (Sessions > 0 && DateTime.UtcNow < until)
        {
            await Task.Delay(20).ConfigureAwait(false);
        }

        _abort.Cancel();
        while (Sessions > 0)
        {
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await StopAsync(TimeSpan.Zero).ConfigureAwait(false);
        }

        _context.Queue.MessageQueued -= Wake;
        _context.Queue.MessageDeferred -= Wake;
        _stopping.Dispose();
        _abort.Dispose();
        _wake.Dispose();
    }
}
