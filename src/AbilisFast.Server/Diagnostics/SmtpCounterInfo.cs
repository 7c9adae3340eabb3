namespace AbilisFast.Server.Diagnostics;

/// <summary>Console labels of the counters and which of their IN/OUT cells exist.</summary>
internal static class SmtpCounterInfo
{
    public const int CounterCount = 16;

    private static readonly string[] Labels =
    [
        "CALL-SUCC", "CALL-FAIL", "EXT-SUCC", "EXT-FAIL",
        "NOTIFY", "NOTIFY-LT", "NOTIFY-SUCC", "NOTIFY-FAIL",
        "LOCAL-SUCC", "LOCAL-FAIL", "RELAY-SUCC", "RELAY-FAIL",
        "INT-SUCC", "INT-FAIL", "DENIED-IP", "BANNED-IP",
    ];

    public static string Label(SmtpCounter counter) => Labels[Index(counter)];

    /// <summary>
    /// Whether the console shows a value in that column: notifications are generated locally, so
    /// NOTIFY* have no IN value; DENIED-IP and BANNED-IP only concern incoming requests (no OUT value).
    /// </summary>
    public static bool HasCell(SmtpCounter counter, Direction direction) => (counter, direction) switch
    {
        (SmtpCounter.Notify or SmtpCounter.NotifyLt or SmtpCounter.NotifySucc or SmtpCounter.NotifyFail, Direction.In) => false,
        (SmtpCounter.DeniedIp or SmtpCounter.BannedIp, Direction.Out) => false,
        _ => true,
    };

    /// <summary>"--- Cleared 3 days 21:28:37 ago, on 29/09/2017 at 15:12:06 ---" (times as given).</summary>
    public static string FormatCleared(DateTimeOffset clearedAt, DateTimeOffset now)
    {
        TimeSpan ago = now - clearedAt;
        if (ago < TimeSpan.Zero)
        {
            ago = TimeSpan.Zero;
        }

        return string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"--- Cleared {ago.Days} days {ago.Hours:D2}:{ago.Minutes:D2}:{ago.Seconds:D2} ago, on {clearedAt:dd/MM/yyyy} at {clearedAt:HH:mm:ss} ---");
    }

    internal static int Index(SmtpCounter counter)
    {
        int index = (int)counter;
        if ((uint)index >= CounterCount)
        {
            throw new ArgumentOutOfRangeException(nameof(counter), counter, null);
        }

        return index;
    }
}
