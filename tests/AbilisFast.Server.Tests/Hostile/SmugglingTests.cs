using static AbilisFast.Server.Tests.Hostile.SmugglingCases;

namespace AbilisFast.Server.Tests.Hostile;

/// <summary>
/// SMTP smuggling over real loopback sockets: a fake end-of-data followed by a whole second
/// transaction, then the real end. Whatever the fake end looks like, the server must accept exactly
/// one message, keep the smuggled commands as its text, and store no bare CR or bare LF.
/// </summary>
public sealed class SmugglingTests
{
    /// <summary>Fake ends of data (each anything but CRLF "." CRLF), in readable escapes.</summary>
    public static TheoryData<string> FakeEnds() => new(FakeEndList);

    private static async Task<(TestServerContext Context, SmtpListener Server)> StartAsync()
    {
        var context = new TestServerContext("LOCAL-DOMAIN:local.test");
        var server = new SmtpListener(context.Context);
        server.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await Task.Yield();
        return (context, server);
    }

    /// <summary>Every reply until the server closes the connection.</summary>
    private static async Task<List<string>> RepliesToCloseAsync(SmtpTestClient client)
    {
        var replies = new List<string>();
        while (await client.ReadReplyAsync(TimeSpan.FromSeconds(10)) is { } reply)
        {
            replies.Add(reply);
        }

        return replies;
    }

    [Theory]
    [MemberData(nameof(FakeEnds))]
    public async Task AFakeEndOfDataNeverEndsTheMessage(string fakeEnd)
    {
        foreach (int chunk in (int[])[0, 1])
        {
            var (context, server) = await StartAsync();
            try
            {
                await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.LocalEndPoint!.Port);
                string session = "EHLO client.test\r\nMAIL FROM:<good@client.test>\r\nRCPT TO:<friend@local.test>\r\nDATA\r\n"
                    + Payload(fakeEnd) + ".\r\nQUIT\r\n";
                Assert.StartsWith("220 ", await client.ReadReplyAsync());
                await client.SendAsync(Encoding.Latin1.GetBytes(session), chunk);
                List<string> replies = await RepliesToCloseAsync(client);

                string how = chunk == 0 ? "one write" : "byte by byte";
                Assert.True(replies.Count == 6, $"{how}: {string.Join(" | ", replies)}");
                Assert.StartsWith("250-mx.test", replies[0]);
                Assert.Equal(["250 2.1.0 Ok", "250 2.1.5 Ok"], replies[1..3]);
                Assert.StartsWith("354 ", replies[3]);
                Assert.StartsWith("250 2.0.0 Ok: queued as ", replies[4]);
                Assert.Equal("221 2.0.0 Bye", replies[5]);

                StoredMessage message = Assert.Single(context.Stored());
                Assert.Equal("good@client.test", message.Envelope.Sender);
                Assert.Equal("friend@local.test", Assert.Single(message.Envelope.Recipients).Address);
                Assert.False(HasBareCrOrLf(message.Body), $"{how}: bare CR or LF stored: {message.Body}");
                Assert.Contains("\r\nSubject: smuggle\r\n\r\nhello", message.Body);
                Assert.EndsWith(Smuggled, message.Body);
            }
            finally
            {
                await server.DisposeAsync();
                context.Dispose();
            }
        }
    }

    [Theory]
    [MemberData(nameof(FakeEnds))]
    public async Task BdatChunksWithFakeEndsAreOneNormalisedMessage(string fakeEnd)
    {
        // BDAT has no end marker: a whole real CRLF.CRLF inside a chunk is text too. The chunk
        // border falls inside the fake end, so a CR waiting for its LF crosses chunks.
        byte[] text = Encoding.Latin1.GetBytes(Payload(fakeEnd) + ".\r\n");
        int split = "Subject: smuggle\r\n\r\nhello".Length + 1;
        var (context, server) = await StartAsync();
        try
        {
            await using SmtpTestClient client = await SmtpTestClient.ConnectGreetedAsync(server.LocalEndPoint!.Port);
            var session = new List<byte>();
            session.AddRange("EHLO client.test\r\nMAIL FROM:<good@client.test>\r\nRCPT TO:<friend@local.test>\r\n"u8.ToArray());
            session.AddRange(Encoding.ASCII.GetBytes($"BDAT {split}\r\n"));
            session.AddRange(text[..split]);
            session.AddRange(Encoding.ASCII.GetBytes($"BDAT {text.Length - split} LAST\r\n"));
            session.AddRange(text[split..]);
            session.AddRange("QUIT\r\n"u8.ToArray());
            await client.SendAsync([.. session], 1);
            List<string> replies = await RepliesToCloseAsync(client);

            Assert.True(replies.Count == 6, string.Join(" | ", replies));
            Assert.StartsWith("250 2.0.0 Ok: ", replies[3]);
            Assert.StartsWith("250 2.0.0 Ok: queued as ", replies[4]);
            Assert.Equal("221 2.0.0 Bye", replies[5]);
            StoredMessage message = Assert.Single(context.Stored());
            Assert.Equal("friend@local.test", Assert.Single(message.Envelope.Recipients).Address);
            Assert.False(HasBareCrOrLf(message.Body), $"bare CR or LF stored: {message.Body}");
            Assert.EndsWith(Smuggled + ".\r\n", message.Body);
        }
        finally
        {
            await server.DisposeAsync();
            context.Dispose();
        }
    }
}
