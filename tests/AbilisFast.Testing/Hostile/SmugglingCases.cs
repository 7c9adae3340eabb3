namespace AbilisFast.Server.Tests.Hostile;

/// <summary>The SMTP smuggling attempts that the loopback and the end-to-end smuggling tests send.</summary>
internal static partial class SmugglingCases
{
    /// <summary>The smuggled transaction that follows the fake end of data.</summary>
    internal const string Smuggled =
        "MAIL FROM:<evil@x.test>\r\nRCPT TO:<victim@local.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil body\r\n";

    /// <summary>The fake ends, one per attempt.</summary>
    internal static readonly string[] FakeEndList =
    [
        @"\n.\n",
        @"\n.\r\n",
        @"\r.\r",
        @"\r\n.\n",
        @"\r\n.\r",
        @"\n.\r",
        @"\r\n\0.\r\n",
        @"\r\n.\0\r\n",
        @"\r.\r\n",
        @"\r\n.\r\r\n",
        @"\r\n.\r \r\n",
        @"\r\n\0.\0\r\n",
        @"\n\n.\n\n",
        @"\r\r\n.\r\r\n",
        @"\r\n.\n\r\n",
        @"\n\r.\r\n",
        @"\r\n.\0\n",
        @"\r\n..\r\n",
        @"\r\n .\r\n",
    ];

    /// <summary>"\r\n" written as the six characters \, r, \, n (test names stay readable) to the real bytes.</summary>
    internal static string Unescape(string escaped) =>
        escaped.Replace(@"\r", "\r", StringComparison.Ordinal).Replace(@"\n", "\n", StringComparison.Ordinal).Replace(@"\0", "\0", StringComparison.Ordinal);

    /// <summary>The message text of one attempt: headers, the fake end, the smuggled transaction (no real end).</summary>
    internal static string Payload(string fakeEnd) => "Subject: smuggle\r\n\r\n" + Attempt(fakeEnd);

    /// <summary>"hello", the fake end and the smuggled transaction.</summary>
    internal static string Attempt(string fakeEnd) => "hello" + Unescape(fakeEnd) + Smuggled;

    /// <summary>True when <paramref name="text"/> holds a CR not followed by LF or an LF not preceded by CR.</summary>
    internal static bool HasBareCrOrLf(string text) => BareCrOrLf().IsMatch(text);

    [GeneratedRegex("\r(?!\n)|(?<!\r)\n")]
    private static partial Regex BareCrOrLf();
}
