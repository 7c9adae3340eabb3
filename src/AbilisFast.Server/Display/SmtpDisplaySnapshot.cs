using System.Globalization;
using System.Net;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Channels;
using AbilisFast.Server.Runtime;

namespace AbilisFast.Server.Display;

/// <summary>One channel as the console shows it: the row of the sessions table and its counters.</summary>
internal sealed record SmtpChannelRow(
    int Number,
    Direction Direction,
    TcpState TcpState,
    string LocalAddress,
    string RemoteAddress,
    SmtpState SmtpState,
    SmtpCountersSnapshot Counters);

/// <summary>
/// Everything the SMTP console displays print, read once from a <see cref="SmtpContext"/>. The
/// formatter works on this copy only, so a display never reads live state twice.
/// </summary>
internal sealed record SmtpDisplaySnapshot(
    bool Active,
    int CurrentSessions,
    int ActiveResIn,
    int ActiveResOut,
    int ActiveMixIn,
    int ActiveMixOut,
    int QueueOut,
    int QueueDefer,
    IReadOnlyList<SmtpChannelRow> Channels,
    SmtpCountersSnapshot Counters,
    DateTimeOffset Now,
    TimeZoneInfo TimeZone)
{
    /// <summary>Inbound sessions ended by DT, DATA-TIMEOUT and MIN-DATA-RATE since the start.</summary>
    public (long Idle, long DataDeadline, long DataRate) Timeouts { get; init; }

    /// <summary>Messages refused over HOP-LIMIT and deliveries that looped back to this server, since the start.</summary>
    public (long HopLimit, long LoopBack) Loops { get; init; }

    /// <summary>Success and delay reports since the start: generated, recipients by action, left the queue delivered or not.</summary>
    public (long Success, long Delay, long Delivered, long Relayed, long Delayed, long Sent, long Failed) Reports { get; init; }

    /// <summary>Recipients refused at RCPT as unknown local names (550 5.1.1) since the start.</summary>
    public long UnknownLocalRecipients { get; init; }

    public static SmtpDisplaySnapshot Take(SmtpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ChannelPool pool = context.Channels;
        int resIn = pool.ActiveResIn;
        int resOut = pool.ActiveResOut;
        int mixIn = pool.ActiveMixIn;
        int mixOut = pool.ActiveMixOut;
        var rows = new SmtpChannelRow[pool.Channels.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = Row(pool.Channels[i]);
        }

        return new SmtpDisplaySnapshot(
            context.Settings.Active,
            resIn + resOut + mixIn + mixOut,
            resIn,
            resOut,
            mixIn,
            mixOut,
            context.Queue.OutCount,
            context.Queue.DeferCount,
            rows,
            context.Counters.Snapshot(),
            context.Time.GetUtcNow(),
            context.Time.LocalTimeZone)
        {
            Timeouts = (context.Timeouts.Idle.Value, context.Timeouts.DataDeadline.Value, context.Timeouts.DataRate.Value),
            Loops = (context.Loops.HopLimit.Value, context.Loops.LoopBack.Value),
            Reports = (context.Reports.Success.Value, context.Reports.Delay.Value, context.Reports.Delivered.Value, context.Reports.Relayed.Value,
                context.Reports.Delayed.Value, context.Reports.Sent.Value, context.Reports.Failed.Value),
            UnknownLocalRecipients = context.RecipientCounters.UnknownLocal,
        };
    }

    /// <summary>"addr:port" as the console prints it, or empty when there is no endpoint.</summary>
    public static string FormatEndPoint(IPEndPoint? endPoint)
    {
        if (endPoint is null)
        {
            return string.Empty;
        }

        // IPv4 (a dual-stack socket's ::ffff:a.b.c.d too) as a.b.c.d:port; IPv6 in brackets, so the
        // port cannot be read as the last group of the address.
        IPAddress address = PeerAddress.Normalize(endPoint.Address);
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? string.Create(CultureInfo.InvariantCulture, $"[{address}]:{endPoint.Port}")
            : string.Create(CultureInfo.InvariantCulture, $"{address}:{endPoint.Port}");
    }

    private static SmtpChannelRow Row(SmtpChannel channel)
    {
        // Each field is read whole; the row may mix two moments (see SmtpChannel).
        return new SmtpChannelRow(
            channel.Number,
            channel.Direction,
            channel.TcpState,
            FormatEndPoint(channel.LocalEndPoint),
            FormatEndPoint(channel.RemoteEndPoint),
            channel.SmtpState,
            channel.CounterSnapshot());
    }
}
