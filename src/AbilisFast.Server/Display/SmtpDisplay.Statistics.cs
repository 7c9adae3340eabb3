using System.Globalization;
using System.Text;

namespace AbilisFast.Server.Display;

internal static partial class SmtpDisplay
{
    private const int LabelWidth = 11;
    private const int ValueWidth = 11;

    /// <summary>Counter rows of a channel's own table: the last row (DENIED-IP/BANNED-IP) is resource-only.</summary>
    private const int ChannelCounterRows = (SmtpCounterInfo.CounterCount / 2) - 1;

    private static void AppendStatistics(StringBuilder text, SmtpDisplaySnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        AppendResourceHeader(text);
        DateTimeOffset now = TimeZoneInfo.ConvertTime(snapshot.Now, snapshot.TimeZone);
        DateTimeOffset cleared = TimeZoneInfo.ConvertTime(snapshot.Counters.ClearedAt, snapshot.TimeZone);
        AppendDashed(text, Indent + SmtpCounterInfo.FormatCleared(cleared, now));
        AppendCounterTable(text, snapshot.Counters, SmtpCounterInfo.CounterCount / 2);
    }

    /// <summary>
    /// <c>       CALL-SUCC  |          0|          4|CALL-FAIL  |          0|          2|</c>: two counters
    /// a row, in enum order, label in 11 columns, IN and OUT right-aligned in 11, blank cells as spaces.
    /// </summary>
    private static void AppendCounterTable(StringBuilder text, in SmtpCountersSnapshot counters, int rows)
    {
        for (int row = 0; row < rows; row++)
        {
            text.Append(Indent);
            AppendCounter(text, counters, (SmtpCounter)(row * 2));
            AppendCounter(text, counters, (SmtpCounter)((row * 2) + 1));
            text.Append(NewLine);
        }
    }

    private static void AppendCounter(StringBuilder text, in SmtpCountersSnapshot counters, SmtpCounter counter)
    {
        string label = SmtpCounterInfo.Label(counter);
        text.Append(label).Append(' ', Math.Max(0, LabelWidth - label.Length)).Append('|');
        AppendValue(text, counters[counter, Direction.In]);
        AppendValue(text, counters[counter, Direction.Out]);
    }

    private static void AppendValue(StringBuilder text, long? value)
    {
        string cell = value is long v ? v.ToString(CultureInfo.InvariantCulture) : string.Empty;
        text.Append(' ', Math.Max(0, ValueWidth - cell.Length)).Append(cell).Append('|');
    }
}
