using System.Collections.Concurrent;

namespace AbilisFast.Server.Channels;

/// <summary>
/// The SES-TOT channels: 0..SES-RESERVED-OUT-1 reserved OUT, then SES-RESERVED-IN reserved IN,
/// the rest shared (as the Abilis console numbers them). Free channels wait in lock-free queues,
/// so taking one costs no scan and, in the steady state, no allocation.
/// </summary>
internal sealed class ChannelPool
{
    private readonly SmtpChannel[] _channels;
    private readonly ConcurrentQueue<SmtpChannel> _freeIn = new();
    private readonly ConcurrentQueue<SmtpChannel> _freeOut = new();
    private readonly ConcurrentQueue<SmtpChannel> _freeShared = new();
    private int _activeResIn;
    private int _activeResOut;
    private int _activeMixIn;
    private int _activeMixOut;

    public ChannelPool(int total, int reservedIn, int reservedOut)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(total, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(reservedIn);
        ArgumentOutOfRangeException.ThrowIfNegative(reservedOut);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(reservedIn + reservedOut, total);
        _channels = new SmtpChannel[total];
        DateTimeOffset now = DateTimeOffset.UtcNow;
        for (int i = 0; i < total; i++)
        {
            ChannelKind kind = i < reservedOut ? ChannelKind.ReservedOut
                : i < reservedOut + reservedIn ? ChannelKind.ReservedIn
                : ChannelKind.Shared;
            var channel = new SmtpChannel(i, kind, now);
            _channels[i] = channel;
            QueueFor(kind).Enqueue(channel);
            SharedCount += kind == ChannelKind.Shared ? 1 : 0;
            ReservedOutCount += kind == ChannelKind.ReservedOut ? 1 : 0;
        }
    }

    public IReadOnlyList<SmtpChannel> Channels => _channels;

    /// <summary>Pulsed each time a channel is given back (connections waiting at accept for one).</summary>
    public ReleaseSignal Released { get; } = new();

    /// <summary>How many channels are shared (neither reserved IN nor reserved OUT).</summary>
    public int SharedCount { get; private set; }

    /// <summary>SES-RESERVED-OUT.</summary>
    public int ReservedOutCount { get; private set; }
    public int ActiveResIn => Volatile.Read(ref _activeResIn);
    public int ActiveResOut => Volatile.Read(ref _activeResOut);
    public int ActiveMixIn => Volatile.Read(ref _activeMixIn);
    public int ActiveMixOut => Volatile.Read(ref _activeMixOut);
    public int Active => ActiveResIn + ActiveResOut + ActiveMixIn + ActiveMixOut;

    /// <summary>Takes a channel for an inbound session: a reserved IN one first, else a shared one.</summary>
    public bool TryAcquireIn(out SmtpChannel channel) => TryAcquire(_freeIn, Diagnostics.Direction.In, out channel);

    /// <summary>Takes a channel for an outbound session: a reserved OUT one first, else a shared one.</summary>
    public bool TryAcquireOut(out SmtpChannel channel) => TryAcquire(_freeOut, Diagnostics.Direction.Out, out channel);

    /// <summary>
    /// Takes a channel for an outbound session: a reserved OUT one first, else a shared one while
    /// fewer than <paramref name="maxSharedOut"/> shared channels carry OUT sessions. Exact when one
    /// thread (the delivery dispatcher) is the only one taking OUT channels.
    /// </summary>
    public bool TryAcquireOut(int maxSharedOut, out SmtpChannel channel)
    {
        if (_freeOut.IsEmpty && ActiveMixOut >= maxSharedOut)
        {
            channel = null!;
            return false;
        }

        return TryAcquire(_freeOut, Diagnostics.Direction.Out, out channel);
    }

    private bool TryAcquire(ConcurrentQueue<SmtpChannel> reserved, Diagnostics.Direction direction, out SmtpChannel channel)
    {
        if (!reserved.TryDequeue(out channel!) && !_freeShared.TryDequeue(out channel!))
        {
            return false;
        }

        if (!channel.TryClaim())
        {
            throw new InvalidOperationException($"channel {channel.Number} was free and busy at once");
        }

        channel.Direction = direction;
        Interlocked.Increment(ref ActiveCounter(channel.Kind, direction));
        return true;
    }

    /// <summary>Returns a channel to its free queue, idle again.</summary>
    public void Release(SmtpChannel channel)
    {
        Interlocked.Decrement(ref ActiveCounter(channel.Kind, channel.Direction));
        channel.Free();
        QueueFor(channel.Kind).Enqueue(channel);
        Released.Pulse();
    }

    private ref int ActiveCounter(ChannelKind kind, Diagnostics.Direction direction)
    {
        if (kind == ChannelKind.Shared)
        {
            return ref direction == Diagnostics.Direction.In ? ref _activeMixIn : ref _activeMixOut;
        }

        return ref kind == ChannelKind.ReservedIn ? ref _activeResIn : ref _activeResOut;
    }

    private ConcurrentQueue<SmtpChannel> QueueFor(ChannelKind kind) => kind switch
    {
        ChannelKind.ReservedIn => _freeIn,
        ChannelKind.ReservedOut => _freeOut,
        _ => _freeShared,
    };
}
