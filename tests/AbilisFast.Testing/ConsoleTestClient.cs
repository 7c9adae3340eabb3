namespace AbilisFast.Server.Tests.Support;

/// <summary>A raw TCP client for the admin port: sends bytes as given and reads up to a marker.</summary>
internal sealed class ConsoleTestClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly List<byte> _received = [];
    private readonly byte[] _buffer = new byte[8192];

    private ConsoleTestClient(Socket socket) => _socket = socket;

    public static Task<ConsoleTestClient> ConnectAsync(int port) => ConnectAsync(port, null);

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> from <paramref name="from"/> (another loopback address such as 127.0.0.2), or from any.</summary>
    public static async Task<ConsoleTestClient> ConnectAsync(int port, IPAddress? from)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (from is not null)
        {
            socket.Bind(new IPEndPoint(from, 0));
        }

        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return new ConsoleTestClient(socket);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.ASCII.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _socket.SendAsync(bytes, SocketFlags.None);

    /// <summary>Everything received up to and including <paramref name="marker"/> (Latin-1, raw bytes kept).</summary>
    public async Task<string> ReadUntilAsync(string marker, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            string text = Encoding.Latin1.GetString(_received.ToArray());
            int at = text.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                _received.RemoveRange(0, at + marker.Length);
                return text[..(at + marker.Length)];
            }

            int n = await _socket.ReceiveAsync(_buffer, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                throw new EndOfStreamException("closed before '" + marker + "'; got: " + text);
            }

            _received.AddRange(_buffer.AsSpan(0, n));
        }
    }

    /// <summary>True when the server closes the connection within the timeout.</summary>
    public async Task<bool> IsClosedAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            while (await _socket.ReceiveAsync(_buffer, SocketFlags.None, cts.Token) > 0)
            {
            }

            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
