namespace AbilisFast.Server.Tests.Display;

/// <summary>Console output blocks as printed by the appliance: an empty line, then CRLF-terminated lines.</summary>
internal static class SeedText
{
    /// <summary>The appliance clock of the seed's display examples: the boot and the last clearing of the counters (29/09/2017 15:12:06).</summary>
    public static readonly DateTimeOffset SeedClock = new(2017, 9, 29, 15, 12, 6, TimeSpan.Zero);

    public static string Block(params string[] lines) => "\r\n" + string.Concat(lines.Select(line => line + "\r\n"));

    public const string ResHeader = "RES:Smtp ----------------------------------------------------------------------";
    public const string SessionsHeader = "       - Smtp Sessions --------------------------------------------------------";
    public const string TableHeader = "       CH TYPE TCP-State LocAdd-LocPort        RemAdd-RemPort        SMTP-State";

    /// <summary>The resource counter rows of the seed's <c>d s smtp</c> / <c>d se smtp</c> examples.</summary>
    public static readonly string[] ResourceCounters =
    [
        "       CALL-SUCC  |          0|          4|CALL-FAIL  |          0|          2|",
        "       EXT-SUCC   |          0|          0|EXT-FAIL   |          0|          0|",
        "       NOTIFY     |           |          0|NOTIFY-LT  |           |          0|",
        "       NOTIFY-SUCC|           |          0|NOTIFY-FAIL|           |          0|",
        "       LOCAL-SUCC |          0|          0|LOCAL-FAIL |          0|          0|",
        "       RELAY-SUCC |          0|          4|RELAY-FAIL |          0|          0|",
        "       INT-SUCC   |          2|          4|INT-FAIL   |          0|          0|",
        "       DENIED-IP  |          0|           |BANNED-IP  |          0|           |",
    ];
}
