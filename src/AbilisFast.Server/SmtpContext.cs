using System.Text;
using AbilisFast.Server.Channels;
using AbilisFast.Server.Configuration;
using AbilisFast.Server.Diagnostics;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Spool;

namespace AbilisFast.Server;

/// <summary>
/// What every session shares: the settings snapshot, the channels, the spool and queues, the
/// counters and the session log, and the replies built once from the settings.
/// </summary>
internal sealed class SmtpContext
{
    public SmtpContext(SmtpSettings settings, SessionLog log, SpoolStore? spool, TimeProvider? time = null)
    {
        Settings = settings;
        Log = log;
        Spool = spool;
        Time = time ?? TimeProvider.System;
        Counters = new SmtpCounters(Time.GetUtcNow());
        Channels = new ChannelPool(settings.SesTot, settings.SesReservedIn, settings.SesReservedOut);
        Greeting = Encoding.ASCII.GetBytes($"220 {settings.HeloHost} ESMTP AbilisFast\r\n");
        HeloReply = Encoding.ASCII.GetBytes($"250 {settings.HeloHost}\r\n");
        EhloReply = Encoding.ASCII.GetBytes(
            $"250-{settings.HeloHost}\r\n" +
            "250-PIPELINING\r\n" +
            $"250-SIZE {settings.MsgMaxSizeBytes}\r\n" +
            "250-8BITMIME\r\n" +
            "250-ENHANCEDSTATUSCODES\r\n" +
            "250-SMTPUTF8\r\n" +
            "250 CHUNKING\r\n");
        HeloHostUtf8 = Encoding.ASCII.GetBytes(settings.HeloHost);
    }

    public SmtpSettings Settings { get; }

    /// <summary>Where session receive and send buffers come from (a counting pool in tests).</summary>
    public System.Buffers.MemoryPool<byte> BufferPool { get; init; } = Transport.BlockMemoryPool.Instance;
    public SessionLog Log { get; }
    public SpoolStore? Spool { get; }
    public TimeProvider Time { get; }
    public ChannelPool Channels { get; }
    public SmtpCounters Counters { get; }
    public MessageQueue Queue { get; } = new();

    public byte[] Greeting { get; }
    public byte[] HeloReply { get; }
    public byte[] EhloReply { get; }
    public byte[] HeloHostUtf8 { get; }

    /// <summary>Ids for messages that are not stored (sink mode): distinct, never 0.</summary>
    private uint _sinkId = (uint)Environment.TickCount;

    public uint NextSinkId()
    {
        uint id = Interlocked.Increment(ref _sinkId);
        return id == 0 ? Interlocked.Increment(ref _sinkId) : id;
    }

    /// <summary>Counts on the resource and on the channel at once.</summary>
    public void Count(SmtpChannel? channel, SmtpCounter counter, Direction direction)
    {
        Counters.Increment(counter, direction);
        channel?.Counters.Increment(counter, direction);
    }
}
