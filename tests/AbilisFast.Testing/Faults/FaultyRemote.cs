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
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                using var reader = new StreamReader(stream, Encoding.Latin1);
                async Task SendAsync(string text) => await stream.WriteAsync(Encoding.ASCII.GetBytes(text), _stop.Token);
                async Task<string?> LineAsync() => await reader.ReadLineAsync(_stop.Token);

                await SendAsync("220 remote.test ESMTP\r\n");
                if (await LineAsync() is null)
                {
                    return;
                }

                if (_fault == RemoteFault.HangMidReply)
                {
                    await SendAsync("250-remote.test\r\n");
                    while (await LineAsync() is not null)
                    {
                        // Say nothing more until the client gives up and closes.
                    }

                    return;
                }

                await SendAsync("250 remote.test\r\n");
                if (await LineAsync() is null)
                {
                    return;
                }

                if (_fault == RemoteFault.Garbage)
                {
                    await SendAsync("hello? \u00ff\u00fe is this thing on\r\n");
                    while (await LineAsync() is not null)
                    {
                    }

                    return;
                }

                await SendAsync("250 2.1.0 Ok\r\n");
                await LineAsync();
                await SendAsync("250 2.1.5 Ok\r\n");
                await LineAsync();
                await SendAsync("354 go ahead\r\n");
                for (int i = 0; i < 3 && await LineAsync() is not null; i++)
                {
                    Interlocked.Increment(ref _textLines);
                }

                client.Client.Close(0); // drop it: RST, in the middle of the text
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
