namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// A raw SMTP client over a loopback socket for tests: sends exactly the bytes it is given (in
/// small chunks when asked) and reads whole replies, multi-line ones included. It can switch to TLS
/// (after a 220 to STARTTLS, or from the first byte on the implicit TLS port) and then accepts any
/// server certificate.
/// </summary>
internal sealed class SmtpTestClient : ISmtpTalk, IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[65536];
    private readonly StringBuilder _pending = new();
    private Stream _stream;

    private SmtpTestClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
    }

    public static async Task<SmtpTestClient> ConnectAsync(int port, IPAddress? address = null, IPAddress? source = null, bool implicitTls = false)
    {
        var socket = new Socket((address ?? IPAddress.Loopback).AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (source is not null)
        {
            socket.Bind(new IPEndPoint(source, 0));
        }

        await socket.ConnectAsync(new IPEndPoint(address ?? IPAddress.Loopback, port));
        var client = new SmtpTestClient(socket);
        if (implicitTls)
        {
            await client.StartTlsAsync();
        }

        return client;
    }

    /// <summary>Connects to <paramref name="port"/> on loopback and checks the 220 greeting.</summary>
    public static async Task<SmtpTestClient> ConnectGreetedAsync(int port)
    {
        SmtpTestClient client = await ConnectAsync(port);
        Assert.StartsWith("220 ", await client.ReadReplyAsync());
        return client;
    }

    /// <summary>Connects to <paramref name="port"/> on loopback, checks the 220 greeting, says EHLO <paramref name="ehlo"/> and checks the multi-line 250.</summary>
    public static async Task<SmtpTestClient> ConnectEhloAsync(int port, string ehlo = "client.test")
    {
        SmtpTestClient client = await ConnectGreetedAsync(port);
        Assert.StartsWith("250-", await client.CommandAsync("EHLO " + ehlo));
        return client;
    }

    public Socket Socket => _socket;

    /// <summary>The server certificate seen in the handshake.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate? ServerCertificate { get; private set; }

    /// <summary>Runs the client side of the TLS handshake over the connection (after 220 to STARTTLS).</summary>
    public async Task StartTlsAsync(TimeSpan? timeout = null)
    {
        Assert.Equal(0, _pending.Length);
        var tls = new SslStream(_stream, leaveInnerStreamOpen: true);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        await tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = "mx.test",
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    ServerCertificate = certificate;
                    return true;
                },
            },
            cts.Token);
        _stream = tls;
    }

    public Task SendAsync(string text, int chunk = 0) => SendAsync(Encoding.UTF8.GetBytes(text), chunk);

    public async Task SendAsync(byte[] bytes, int chunk = 0)
    {
        if (chunk <= 0)
        {
            await _stream.WriteAsync(bytes);
            await _stream.FlushAsync();
            return;
        }

        for (int i = 0; i < bytes.Length; i += chunk)
        {
            await _stream.WriteAsync(bytes.AsMemory(i, Math.Min(chunk, bytes.Length - i)));
            await _stream.FlushAsync();
            await Task.Yield();
        }
    }

    /// <summary>Reads one complete reply (all its lines); null when the server closed first.</summary>
    public async Task<string?> ReadReplyAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        return await ReplyFraming.ReadReplyAsync(() => ReadLineAsync(cts.Token));
    }

    Task<string?> ISmtpTalk.ReadReplyAsync() => ReadReplyAsync();

    Task ISmtpTalk.SendAsync(string text) => SendAsync(text);

    /// <summary>Sends a command and returns its reply.</summary>
    public async Task<string?> CommandAsync(string command)
    {
        await SendAsync(command + "\r\n");
        return await ReadReplyAsync();
    }

    /// <summary>True when the server has closed the connection (reads end) within the timeout.</summary>
    public async Task<bool> IsClosedAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            while (true)
            {
                int n = await _stream.ReadAsync(_buffer, cts.Token);
                if (n == 0)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            return true;
        }
    }

    private async Task<string?> ReadLineAsync(CancellationToken token)
    {
        while (true)
        {
            if (ReplyFraming.TryTakeLine(_pending, out string? line))
            {
                return line;
            }

            int n;
            try
            {
                n = await _stream.ReadAsync(_buffer, token);
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                return null;
            }

            if (n == 0)
            {
                return null;
            }

            _pending.Append(Encoding.UTF8.GetString(_buffer, 0, n));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
