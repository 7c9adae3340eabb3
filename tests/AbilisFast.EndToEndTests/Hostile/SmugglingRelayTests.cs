namespace AbilisFast.Server.Tests.Hostile;

/// <summary>
/// Smuggling end to end through the real executable: what the server accepted is relayed to the
/// next hop as one message, with only CRLF line ends and every line that starts with a dot
/// stuffed, so the next hop cannot be fooled either.
/// </summary>
[Collection("EndToEnd")]
public sealed class SmugglingRelayTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static string[] Relaying(int port) =>
        ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "RELAY-NET:127/8", "MAIL-TRY-DELAY:1",
         "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{port.ToString(CultureInfo.InvariantCulture)}"];

    private static async Task SendAsync(int port, string recipient, string text)
    {
        await using SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(port);
        await client.SendAsync(Encoding.Latin1.GetBytes(
            $"EHLO client.test\r\nMAIL FROM:<good@client.test>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n{text}.\r\nQUIT\r\n"));
        var replies = new List<string>();
        while (await client.ReadReplyAsync(TimeSpan.FromSeconds(10)) is { } reply)
        {
            replies.Add(reply);
        }

        Assert.True(replies.Count == 6 && replies[4].StartsWith("250 2.0.0 Ok: queued as ", StringComparison.Ordinal), string.Join(" | ", replies));
    }

    [Fact]
    public async Task EveryFakeEndInOneMessageReachesTheNextHopAsOneCleanDotStuffedMessage()
    {
        var text = new StringBuilder("Subject: all fake ends\r\n\r\n");
        foreach (string fakeEnd in SmugglingCases.FakeEndList)
        {
            text.Append(SmugglingCases.Attempt(fakeEnd));
        }

        text.Append("last line\r\n");
        string? data = null;
        string? afterData = null;
        await using var peer = new ScriptedSmtpPeer(async p =>
        {
            await p.SendAsync("220 next.test ESMTP\r\n");
            await p.ExpectStartAsync("EHLO ", "250-next.test\r\n250 8BITMIME\r\n");
            await p.ExpectStartAsync("MAIL FROM:<good@client.test>", "250 2.1.0 ok\r\n");
            await p.ExpectAsync("RCPT TO:<far@far.test>", "250 2.1.5 ok\r\n");
            await p.ExpectAsync("DATA", "354 go\r\n");
            data = await p.ReadDataAsync();
            await p.SendAsync("250 2.0.0 ok\r\n");
            afterData = await p.ReadLineAsync();
            await p.SendAsync("221 bye\r\n");
        });
        using ServerProcess server = await ServerProcess.StartAsync(parameters: Relaying(peer.EndPoint.Port));
        await SendAsync(server.Port, "far@far.test", text.ToString());
        await peer.Completion.WaitAsync(Wait);

        // The first "." line the next hop saw is the real end, and what follows is QUIT, not MAIL.
        Assert.Equal("QUIT\r\n", afterData);
        Assert.NotNull(data);
        Assert.False(SmugglingCases.HasBareCrOrLf(data), data);
        Assert.EndsWith("\r\nlast line\r\n.\r\n", data);
        Assert.Equal(SmugglingCases.FakeEndList.Length, CountOf(data, "\r\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<victim@local.test>\r\nDATA\r\n"));

        // A line that is "." alone in the stored text (e.g. from "\n.\n") goes out stuffed.
        Assert.Contains("hello\r\n..\r\nMAIL FROM:<evil@x.test>", data);
        foreach (string line in data[..^3].Split("\r\n"))
        {
            Assert.False(line == ".", "an unstuffed dot line went out");
        }

        server.DeleteWorkDir();
    }

    [Fact]
    public async Task EachFakeEndRelayedToSmtpSinkIsOneWholeMessage()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        using ServerProcess server = await ServerProcess.StartAsync(parameters: Relaying(sink.Port));
        int count = 0;
        foreach (string fakeEnd in SmugglingCases.FakeEndList)
        {
            count++;
            await SendAsync(server.Port, $"r{count}@far.test", SmugglingCases.Payload(fakeEnd) + $"-- end {count} --\r\n");
        }

        string[] dumps = await Eventually.WaitAsync(
            () => sink.Dumps() is { } d && d.Length == count && d.All(x => x.Contains("-- end ", StringComparison.Ordinal)) ? d : null,
            $"{count} messages at smtp-sink", Wait);

        for (int i = 1; i <= count; i++)
        {
            // smtp-sink writes LF line ends and removes the stuffing: the smuggled transaction is text of message i.
            string dump = Assert.Single(dumps, d => d.Contains($"X-Rcpt-Args: <r{i}@far.test>", StringComparison.Ordinal));
            Assert.Contains("Subject: smuggle\n", dump);
            Assert.Contains("MAIL FROM:<evil@x.test>\nRCPT TO:<victim@local.test>\nDATA\nSubject: smuggled\n\nevil body\n", dump);
            Assert.Contains($"-- end {i} --\n", dump);
            Assert.DoesNotContain("X-Rcpt-Args: <victim@local.test>", dump);
            Assert.DoesNotContain('\r', dump);
        }

        server.DeleteWorkDir();
    }

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
