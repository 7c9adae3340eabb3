using System.Globalization;
using System.Text;
using AbilisFast.Protocol.States;

namespace AbilisFast.Server.Display;

/// <summary>
/// The SMTP resource displays of the Abilis console (<c>d d</c>, <c>d de</c>, <c>d s</c>, <c>d se smtp</c>),
/// formatted from a <see cref="SmtpDisplaySnapshot"/> column for column as the appliance prints them.
/// Every display starts with an empty line; every line ends with CRLF.
/// </summary>
internal static partial class SmtpDisplay
{
    internal const string NewLine = "\r\n";
    internal const int LineWidth = 79;
    internal const string Indent = "       ";

    private const int FieldWidth = 22;

    /// <summary><c>d d smtp</c>: the resource state.</summary>
    public static string DisplayResource(SmtpDisplaySnapshot snapshot) => Format(snapshot, statistics: false, sessions: false);

    /// <summary><c>d de smtp</c>: the resource state and the sessions table.</summary>
    public static string DisplayDetailed(SmtpDisplaySnapshot snapshot) => Format(snapshot, statistics: false, sessions: true);

    /// <summary><c>d s smtp</c>: the resource counters and when they were cleared.</summary>
    public static string DisplayStatistics(SmtpDisplaySnapshot snapshot) => Format(snapshot, statistics: true, sessions: false);

    /// <summary><c>d se smtp</c>: the <c>d s</c> display, then each channel's row and its counters.</summary>
    public static string DisplayStatisticsPerSession(SmtpDisplaySnapshot snapshot) => Format(snapshot, statistics: true, sessions: true);

    /// <summary>
    /// One of the four displays: the resource state or its counters, then, with
    /// <paramref name="sessions"/>, a row for each channel (and with the counters, the channel's own).
    /// </summary>
    private static string Format(SmtpDisplaySnapshot snapshot, bool statistics, bool sessions)
    {
        int perChannel = statistics ? 700 : 80;
        var text = new StringBuilder((statistics ? 1024 : 512) + (sessions ? snapshot.Channels.Count * perChannel : 0));
        if (statistics)
        {
            AppendStatistics(text, snapshot);
        }
        else
        {
            AppendResource(text, snapshot);
        }

        if (sessions)
        {
            AppendSessionsHeader(text);
            foreach (SmtpChannelRow row in snapshot.Channels)
            {
                AppendChannelRow(text, row);
                if (statistics)
                {
                    AppendCounterTable(text, row.Counters, ChannelCounterRows);
                }
            }
        }

        return text.ToString();
    }

    /// <summary>The line that opens every display: <c>RES:Smtp ----...</c> to column 79.</summary>
    internal static void AppendResourceHeader(StringBuilder text)
    {
        text.Append(NewLine);
        AppendDashed(text, "RES:Smtp ");
    }

    private static void AppendResource(StringBuilder text, SmtpDisplaySnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        AppendResourceHeader(text);
        AppendFields(text, Field("STATE", snapshot.Active ? "ACTIVE" : "INACTIVE"), Field("CUR-SES", snapshot.CurrentSessions));
        AppendFields(
            text,
            Field("ACTIVE-RES-IN", snapshot.ActiveResIn),
            Field("ACTIVE-RES-OUT", snapshot.ActiveResOut),
            Field("ACTIVE-MIX-IN", snapshot.ActiveMixIn),
            Field("ACTIVE-MIX-OUT", snapshot.ActiveMixOut));
        AppendFields(text, Field("QUEUE-OUT", snapshot.QueueOut), Field("QUEUE-DEFER", snapshot.QueueDefer));
    }

    private static string Field(string name, int value)
        => string.Create(CultureInfo.InvariantCulture, $"{name}:{value}");

    private static string Field(string name, string value) => name + ":" + value;

    /// <summary>NAME:VALUE fields of 22 columns (at least one space apart), the last one unpadded.</summary>
    private static void AppendFields(StringBuilder text, params ReadOnlySpan<string> fields)
    {
        text.Append(Indent);
        for (int i = 0; i < fields.Length; i++)
        {
            text.Append(fields[i]);
            if (i < fields.Length - 1)
            {
                text.Append(' ', Math.Max(1, FieldWidth - fields[i].Length));
            }
        }

        text.Append(NewLine);
    }

    /// <summary><c>       - Smtp Sessions ----...</c> and the column titles.</summary>
    internal static void AppendSessionsHeader(StringBuilder text)
    {
        AppendDashed(text, Indent + "- Smtp Sessions ");
        text.Append(Indent).Append("CH TYPE TCP-State LocAdd-LocPort        RemAdd-RemPort        SMTP-State").Append(NewLine);
    }

    /// <summary>
    /// One row of the sessions table: CH in 3 columns, TYPE in 5, TCP-State in 10, the two addresses
    /// in 22 each, then SMTP-State. A listening channel has no remote side and, as on the appliance,
    /// no remote column either: its SMTP-State follows the local address column.
    /// </summary>
    internal static void AppendChannelRow(StringBuilder text, SmtpChannelRow row)
    {
        text.Append(Indent);
        AppendPadded(text, row.Number.ToString(CultureInfo.InvariantCulture), 3);
        AppendPadded(text, row.Direction == Direction.In ? "IN" : "OUT", 5);
        AppendPadded(text, row.TcpState.Label(), 10);
        AppendPadded(text, row.LocalAddress, FieldWidth);
        if (row.TcpState != TcpState.Listen || row.RemoteAddress.Length != 0)
        {
            AppendPadded(text, row.RemoteAddress, FieldWidth);
        }

        text.Append(row.SmtpState.Label()).Append(NewLine);
    }

    /// <summary>The value then spaces to <paramref name="width"/>, and always at least one space.</summary>
    private static void AppendPadded(StringBuilder text, string value, int width)
    {
        text.Append(value);
        text.Append(' ', Math.Max(1, width - value.Length));
    }

    /// <summary>A header line as the console prints it: <paramref name="start"/> then dashes to column 79 (nothing added when it is already that long).</summary>
    internal static string DashedLine(string start) => start.Length < LineWidth ? start + new string('-', LineWidth - start.Length) : start;

    private static void AppendDashed(StringBuilder text, string start) => text.Append(DashedLine(start)).Append(NewLine);
}
