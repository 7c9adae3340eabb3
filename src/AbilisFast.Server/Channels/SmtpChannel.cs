using System.Net;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Diagnostics;

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
internal sealed class SmtpChannel
{
    private int _busy;

    public SmtpChannel(int number, ChannelKind kind)
    {
        Number = number;
        Kind = kind;
        Reset();
    }

    public int Number { get; }
    public ChannelKind Kind { get; }

    /// <summary>The channel's own counters (the resource counters are kept separately).</summary>
    public SmtpCounters Counters { get; } = new(DateTimeOffset.UtcNow);

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
