using System.Net;
using AbilisFast.Protocol.States;

namespace AbilisFast.Server.Channels;

/// <summary>How a channel was configured: reserved for IN, reserved for OUT, or shared (MIX).</summary>
internal enum ChannelKind : byte
{
    ReservedOut,
    ReservedIn,
    Shared,
}

/// <summary>
/// One of the SES-TOT numbered channels. Its display fields are written by the session that owns it
/// and read by the admin port as a snapshot; each field is a single reference or small value, so a
/// reader sees every field whole (the row may mix two moments, never a torn value).
/// </summary>
/// <remarks>
/// A channel that has never carried a session costs about 80 bytes (this object and its place in
/// the pool's free queue): its counters are made at its first count, so SES-TOT can be large
/// without the memory of slots that are never used.
/// </remarks>
internal sealed class SmtpChannel
{
    private int _busy;
    private SmtpCounters? _counters;

    /// <summary>When the counters were last cleared while they did not exist yet (their start).</summary>
    private DateTimeOffset _clearedAt;

    public SmtpChannel(int number, ChannelKind kind, DateTimeOffset createdAt)
    {
        Number = number;
        Kind = kind;
        _clearedAt = createdAt;
        Reset();
    }

    public int Number { get; }
    public ChannelKind Kind { get; }

    /// <summary>The channel's own counters (the resource counters are kept separately), made at the first use.</summary>
    public SmtpCounters Counters => Volatile.Read(ref _counters) ?? CreateCounters();

    /// <summary>False until something has been counted on the channel (or <see cref="Counters"/> was asked for).</summary>
    public bool HasCounters => Volatile.Read(ref _counters) is not null;

    /// <summary>The channel's counter values; all zero, without making the counters, for a channel never counted on.</summary>
    public SmtpCountersSnapshot CounterSnapshot() =>
        Volatile.Read(ref _counters) is { } counters ? counters.Snapshot() : new SmtpCountersSnapshot(default, ClearedAtWithoutCounters);

    /// <summary>Zeroes the channel's counters (<c>clear s smtp</c>); a channel never counted on only records the time.</summary>
    public void ClearCounters(DateTimeOffset now)
    {
        SmtpCounters? counters;
        lock (this)
        {
            counters = _counters;
            if (counters is null)
            {
                _clearedAt = now;
                return;
            }
        }

        counters.Clear(now);
    }

    private DateTimeOffset ClearedAtWithoutCounters
    {
        get
        {
            lock (this)
            {
                return _clearedAt;
            }
        }
    }

    private SmtpCounters CreateCounters()
    {
        lock (this)
        {
            // Packed (no cache-line padding): only the session holding the channel counts on it.
            return _counters ??= new SmtpCounters(_clearedAt, padded: false);
        }
    }

    /// <summary>IN or OUT while in use; for an idle channel, what it waits as (OUT for reserved OUT).</summary>
    public Direction Direction { get; set; }
    public TcpState TcpState { get; set; }
    public SmtpState SmtpState { get; set; }
    public IPEndPoint? LocalEndPoint { get; set; }
    public IPEndPoint? RemoteEndPoint { get; set; }

    public bool IsBusy => Volatile.Read(ref _busy) != 0;

    internal bool TryClaim() => Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

    internal void Free()
    {
        Reset();
        Volatile.Write(ref _busy, 0);
    }

    /// <summary>The idle look of the channel: OUT READY/READY for reserved OUT, IN LISTEN/READY otherwise.</summary>
    private void Reset()
    {
        LocalEndPoint = null;
        RemoteEndPoint = null;
        SmtpState = SmtpState.Ready;
        if (Kind == ChannelKind.ReservedOut)
        {
            Direction = Direction.Out;
            TcpState = TcpState.Ready;
        }
        else
        {
            Direction = Direction.In;
            TcpState = TcpState.Listen;
        }
    }
}
