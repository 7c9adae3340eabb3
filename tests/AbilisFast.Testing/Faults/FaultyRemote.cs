namespace AbilisFast.Server.Tests.Faults;

/// <summary>How <see cref="FaultyRemote"/> breaks each connection.</summary>
public enum RemoteFault
{
    /// <summary>A normal greeting and EHLO, then a reply to MAIL that is not SMTP at all.</summary>
    Garbage,

    /// <summary>The EHLO reply stops after its first line and nothing more comes.</summary>
    HangMidReply,

    /// <summary>MAIL, RCPT and DATA are accepted, then the connection drops in the middle of the text.</summary>
    DropMidData,

    /// <summary>The connection is accepted and nothing ever comes back (a black-holed host).</summary>
    BlackHole,

    /// <summary>
    /// The greeting comes one byte every 300 ms and never ends (a "220-" line after another):
    /// every byte would reset an idle timer, so only a deadline for the whole reply stops it.
    /// </summary>
    Dribble,

    /// <summary>A 220 greeting, then "451 4.3.2" to every command, EHLO and HELO included.</summary>
    TempFailEverything,
}

/// <summary>
/// A remote SMTP server on a loopback port that breaks every connection the same way, as many
/// times as the client comes back, and counts the connections (one per delivery attempt).
/// </summary>
internal sealed class FaultyRemote : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly RemoteFault _fault;
    private readonly Task _accepting;
    private int _connections;
    private int _open;
    private int _textLines;

    public FaultyRemote(RemoteFault fault)
    {
        _fault = fault;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections open now (accepted and not yet closed by the client).</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>Lines of message text received, all connections together (DropMidData).</summary>
    public int TextLines => Volatile.Read(ref _textLines);

    private async Task AcceptAsync()
    {
        var running = new List<Task>();
        try
        {
            while (true)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                running.Add(ServeAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(running);
    }

    private async Task ServeAsync(TcpClient client)
    {
        Interlocked.Increment(ref _open);
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                if (_fault == RemoteFault.BlackHole)
                {
                    // Read and drop whatever comes, say nothing, until the client gives up.
                    byte[] sink = new byte[1024];
                    while (await stream.ReadAsync(sink, _stop.Token) > 0)
                    {
                    }

                    return;
                }

                if (_fault == RemoteFault.Dribble)
                {
                    await DribbleAsync(stream);
                    return;
                }

                using var reader = new StreamReader(stream, Encoding.Latin1);
                async Task SendAsync(string text) => await stream.WriteAsync(Encoding.ASCII.GetBytes(text), _stop.Token);
                async Task<string?> LineAsync() => await reader.ReadLineAsync(_stop.Token);

                // Reads one line and answers it; false when the client has closed.
                async Task<bool> ReplyAsync(string reply)
                {
                    if (await LineAsync() is null)
                    {
                        return false;
                    }

                    await SendAsync(reply);
                    return true;
                }

                // Answers every further line with reply (or says nothing when null) until the client closes.
                async Task AnswerUntilClosedAsync(string? reply)
                {
                    while (await LineAsync() is not null)
                    {
                        if (reply is not null)
                        {
                            await SendAsync(reply);
                        }
                    }
                }

                await SendAsync("220 remote.test ESMTP\r\n");
                switch (_fault)
                {
                    case RemoteFault.TempFailEverything:
                        await AnswerUntilClosedAsync("451 4.3.2 try again later\r\n");
                        return;
                    case RemoteFault.HangMidReply:
                        if (await ReplyAsync("250-remote.test\r\n"))
                        {
                            await AnswerUntilClosedAsync(null); // say nothing more until the client gives up and closes
                        }

                        return;
                    case RemoteFault.Garbage:
                        if (await ReplyAsync("250 remote.test\r\n") && await ReplyAsync("hello? \u00ff\u00fe is this thing on\r\n"))
                        {
                            await AnswerUntilClosedAsync(null);
                        }

                        return;
                }

                // DropMidData
                if (!(await ReplyAsync("250 remote.test\r\n") && await ReplyAsync("250 2.1.0 Ok\r\n")
                    && await ReplyAsync("250 2.1.5 Ok\r\n") && await ReplyAsync("354 go ahead\r\n")))
                {
                    return;
                }

                for (int i = 0; i < 3 && await LineAsync() is not null; i++)
                {
                    Interlocked.Increment(ref _textLines);
                }

                client.Client.Close(0); // drop it: RST, in the middle of the text
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
            finally
            {
                Interlocked.Decrement(ref _open);
            }
        }
    }

    /// <summary>One byte every 300 ms of an endless multi-line greeting, until the client closes.</summary>
    private async Task DribbleAsync(NetworkStream stream)
    {
        byte[] line = "220-remote.test slowly\r\n"u8.ToArray();
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        Task closed = Task.Run(async () =>
        {
            byte[] sink = new byte[1024];
            while (await stream.ReadAsync(sink, reading.Token) > 0)
            {
            }
        });
        try
        {
            for (int i = 0; !closed.IsCompleted; i++)
            {
                await stream.WriteAsync(line.AsMemory(i % line.Length, 1), _stop.Token);
                await Task.WhenAny(closed, Task.Delay(300, _stop.Token));
            }
        }
        finally
        {
            await reading.CancelAsync();
            try
            {
                await closed;
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
