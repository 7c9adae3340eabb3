namespace AbilisFast.Server.Tests.Faults;

/// <summary>
/// What the fault tests share: the relaying server's parameters, numbered test messages and the
/// count of each number that reached smtp-sink whole.
/// </summary>
internal static partial class FaultRig
{
    /// <summary>The line every test message ends with: a dump holding it is complete.</summary>
    public const string EndMark = "-- end --";

    /// <summary>Parameters of a server that relays everything to 127.0.0.1:<paramref name="sinkPort"/>.</summary>
    public static string[] Relaying(int sinkPort, params string[] more) =>
        ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES", "RELAY-NET:127/8", "MAIL-TRY-DELAY:1",
         "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{sinkPort.ToString(CultureInfo.InvariantCulture)}", .. more];

    /// <summary>Header and body of message <paramref name="number"/>, CRLF lines, without the final dot.</summary>
    public static string Message(string tag, int number, int bodyLines = 20)
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Subject: {tag} {number}\r\nMessage-ID: <{number}.{tag}@client.test>\r\n\r\n");
        for (int i = 0; i < bodyLines; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"line {i} of message {number}, padding padding padding padding\r\n");
        }

        return text.Append(EndMark).Append("\r\n").ToString();
    }

    /// <summary>How many complete copies of each message number smtp-sink holds (dumps without the end mark are cut deliveries).</summary>
    public static Dictionary<int, int> Delivered(SmtpSinkProcess sink, string tag)
    {
        var counts = new Dictionary<int, int>();
        foreach (string text in sink.DumpTexts())
        {
            Match m = Regex.Match(text, "\nSubject: " + Regex.Escape(tag) + @" (\d+)\n");
            if (m.Success && text.Contains("\n" + EndMark + "\n", StringComparison.Ordinal))
            {
                int n = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                counts[n] = counts.GetValueOrDefault(n) + 1;
            }
        }

        return counts;
    }

    /// <summary>Waits until QUEUE-OUT and QUEUE-DEFER are both empty (d d smtp).</summary>
    public static async Task WaitForEmptyQueuesAsync(ServerProcess server, TimeSpan timeout)
    {
        string last = string.Empty;
        try
        {
            await Eventually.WaitAsync(
                async () =>
                {
                    string output = await server.CtlAsync("d d smtp");
                    Match m = QueueLine().Match(output);
                    Assert.True(m.Success, output);
                    last = m.Value;
                    return m.Groups[1].Value == "0" && m.Groups[2].Value == "0";
                },
                "empty queues",
                timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"queues not empty: {last}\n{server.Stderr}");
        }
    }

    [GeneratedRegex(@"QUEUE-OUT:(\d+)\s+QUEUE-DEFER:(\d+)")]
    private static partial Regex QueueLine();
}
