namespace AbilisFast.Server.Tests.Support;

/// <summary>Drives one real <see cref="InSession"/> over in-memory pipes.</summary>
internal sealed class SessionHarness(PipeTransport transport, InSession session, Task run) : ISmtpTalk, IAsyncDisposable
{
    private readonly PipeTransport _transport = transport;
    private readonly StringBuilder _pending = new();

    public InSession Session { get; } = session;
    public Task Run { get; } = run;
    public PipeTransport Transport => _transport;

    public static async Task<SessionHarness> StartAsync(SmtpContext context, string remote = "127.0.0.1", bool talkedFirst = false, bool readGreeting = true)
    {
        var transport = new PipeTransport(new IPEndPoint(IPAddress.Parse(remote), 40000)) { HasPendingInput = talkedFirst };
        var session = new InSession(context);
        context.Channels.TryAcquireIn(out var channel);
        Task run = Task.Run(async () =>
        {
            try
            {
                await session.RunAsync(transport, channel);
            }
            finally
            {
                // What SmtpListener does when it disposes the socket transport: the client sees EOF.
                await transport.ServerToClient.Writer.CompleteAsync();
                if (channel is not null)
                {
                    context.Channels.Release(channel);
                }
            }
        });
        var harness = new SessionHarness(transport, session, run);
        if (readGreeting && !talkedFirst)
        {
            string? greeting = await harness.ReadReplyAsync();
            if (greeting is null || !greeting.StartsWith("220 ", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("no greeting: " + greeting);
            }
        }

        return harness;
    }

    /// <summary>
    /// A session (as <see cref="StartAsync"/>) that has said <c>EHLO client.test</c> and
    /// <c>MAIL FROM:&lt;a@client.test&gt;</c>, then <c>RCPT TO</c> each of <paramref name="recipients"/>;
    /// asserts that each of them was accepted.
    /// </summary>
    public static async Task<SessionHarness> StartTransactionAsync(SmtpContext context, string[] recipients, string remote = "127.0.0.1")
    {
        SessionHarness s = await StartAsync(context, remote);
        try
        {
            Assert.StartsWith("250", await s.CommandAsync("EHLO client.test"));
            Assert.Equal("250 2.1.0 Ok", await s.CommandAsync("MAIL FROM:<a@client.test>"));
            foreach (string rcpt in recipients)
            {
                Assert.Equal("250 2.1.5 Ok", await s.CommandAsync($"RCPT TO:<{rcpt}>"));
            }

            return s;
        }
        catch
        {
            await s.DisposeAsync();
            throw;
        }
    }

    public async Task SendAsync(string text) => await SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _transport.ClientToServer.Writer.WriteAsync(bytes);
    }

    public async Task<string?> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    /// <summary>Reads one whole reply; null when the session closed its output.</summary>
    public Task<string?> ReadReplyAsync() => ReplyFraming.ReadReplyAsync(ReadLineAsync);

    private async Task<string?> ReadLineAsync()
    {
        PipeReader reader = _transport.ServerToClient.Reader;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            if (ReplyFraming.TryTakeLine(_pending, out string? line))
            {
                return line;
            }

            ReadResult result = await reader.ReadAsync(cts.Token);
            _pending.Append(Encoding.UTF8.GetString(result.Buffer.ToArray()));
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted && result.Buffer.IsEmpty)
            {
                return null;
            }
        }
    }

    /// <summary>True once the session has ended by itself (within the timeout).</summary>
    public async Task<bool> EndedAsync(TimeSpan? timeout = null)
    {
        Task done = await Task.WhenAny(Run, Task.Delay(timeout ?? TimeSpan.FromSeconds(10)));
        if (done == Run)
        {
            await Run;
            return true;
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        await _transport.ClientToServer.Writer.CompleteAsync();
        await Task.WhenAny(Run, Task.Delay(TimeSpan.FromSeconds(5)));
        await _transport.DisposeAsync();
    }
}
