namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// A remote SMTP server that follows a script, on a loopback port: it accepts one connection and
/// runs the script against it, so tests can send exactly the replies (good, odd or broken) a real
/// server might, and see exactly the bytes the client sent.
/// </summary>
internal sealed class ScriptedSmtpPeer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Task _run;
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(30));
    private Stream? _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public ScriptedSmtpPeer(Func<ScriptedSmtpPeer, Task> script)
        : this(1, script)
    {
    }

    /// <summary>
    /// Accepts <paramref name="connections"/> connections one after the other and runs the script on
    /// each (<see cref="Connection"/> says which one, from 1); <see cref="Received"/> holds them all.
    /// </summary>
    public ScriptedSmtpPeer(int connections, Func<ScriptedSmtpPeer, Task> script)
        : this(new IPEndPoint(IPAddress.Loopback, 0), connections, script)
    {
    }

    /// <summary>As above, listening on <paramref name="endpoint"/> (another loopback address, or a chosen port).</summary>
    public ScriptedSmtpPeer(IPEndPoint endpoint, int connections, Func<ScriptedSmtpPeer, Task> script)
    {
        _listener = new TcpListener(endpoint);
        _listener.Start();
        _run = RunAsync(connections, script);
    }

    /// <summary>The connection being served, from 1.</summary>
    public int Connection { get; private set; }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Every byte the client sent, as Latin-1 text (one char per byte).</summary>
    public StringBuilder Received { get; } = new();

    /// <summary>Completes when the script is done; faults when it failed.</summary>
    public Task Completion => _run;

    private async Task RunAsync(int connections, Func<ScriptedSmtpPeer, Task> script)
    {
        for (int i = 1; i <= connections; i++)
        {
            using TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _stream = client.GetStream();
            _start = _end = 0;
            Connection = i;
            if (connections > 1)
            {
                Received.Append($"--- connection {i} ---\r\n");
            }

            await script(this);
            await _stream.DisposeAsync();
        }
    }

    /// <summary>Sends raw text (the script writes its own CRLFs).</summary>
    public async Task SendAsync(string raw) => await _stream!.WriteAsync(Encoding.UTF8.GetBytes(raw), _stop.Token);

    /// <summary>Reads one line including its CRLF; null at the end of the stream.</summary>
    public async Task<string?> ReadLineAsync()
    {
        while (true)
        {
            int lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (lf >= 0)
            {
                string line = Encoding.Latin1.GetString(_buffer, _start, lf + 1 - _start);
                _start = lf + 1;
                return line;
            }

            if (!await FillAsync())
            {
                return null;
            }
        }
    }

    /// <summary>Reads the message text up to and including the "." line, exactly as sent.</summary>
    public async Task<string> ReadDataAsync()
    {
        var text = new StringBuilder();
        while (await ReadLineAsync() is { } line)
        {
            text.Append(line);
            if (line == ".\r\n")
            {
                break;
            }
        }

        return text.ToString();
    }

    /// <summary>Waits until the client closes the connection.</summary>
    public async Task ReadToEndAsync()
    {
        while (await FillAsync())
        {
        }
    }

    private async Task<bool> FillAsync()
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        int read = await _stream!.ReadAsync(_buffer.AsMemory(_end), _stop.Token);
        if (read == 0)
        {
            return false;
        }

        Received.Append(Encoding.Latin1.GetString(_buffer, _end, read));
        _end += read;
        return true;
    }

    /// <summary>
    /// The server side of a TLS handshake on the connection (after "220 go ahead" for STARTTLS, or
    /// first thing for implicit TLS) with <paramref name="certificate"/> (default: a self-signed one
    /// for relay.test); what was buffered in plain text is dropped.
    /// </summary>
    public async Task UpgradeToTlsAsync(X509Certificate2? certificate = null)
    {
        var tls = new SslStream(_stream!, leaveInnerStreamOpen: false);
        // offline: the peer sends the chain it has and never downloads missing intermediates (AIA).
        SslStreamCertificateContext context = SslStreamCertificateContext.Create(certificate ?? Certificate.Value, additionalCertificates: null, offline: true);
        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = context }, _stop.Token);
        _stream = tls;
        _start = _end = 0;
        Received.Append("--- TLS ---\r\n");
    }

    /// <summary>A self-signed certificate for relay.test, made once per test run.</summary>
    private static readonly Lazy<X509Certificate2> Certificate = new(() =>
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=relay.test", key, HashAlgorithmName.SHA256);
        using X509Certificate2 made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pfx), null);
    });

    /// <summary>Reads one line, which must be <paramref name="expected"/> (CRLF added), and answers <paramref name="reply"/>.</summary>
    public async Task ExpectAsync(string expected, string reply)
    {
        Assert.Equal(expected + "\r\n", await ReadLineAsync());
        await SendAsync(reply);
    }

    /// <summary>Reads one line, which must start with <paramref name="prefix"/>, and answers <paramref name="reply"/>.</summary>
    public async Task ExpectStartAsync(string prefix, string reply)
    {
        Assert.StartsWith(prefix, await ReadLineAsync());
        await SendAsync(reply);
    }

    /// <summary>
    /// Expects one transaction and accepts each step: exactly <c>MAIL FROM:&lt;from&gt;</c> (250), then
    /// <c>RCPT TO:&lt;to&gt;</c> for each of <paramref name="to"/> in that order (250 each), then DATA
    /// (354). Returns the message text up to and including the "." line, exactly as sent; the caller
    /// answers it.
    /// </summary>
    public async Task<string> ExpectTransactionAsync(string from, params string[] to)
    {
        await ExpectAsync($"MAIL FROM:<{from}>", "250 ok\r\n");
        foreach (string rcpt in to)
        {
            await ExpectAsync($"RCPT TO:<{rcpt}>", "250 ok\r\n");
        }

        await ExpectAsync("DATA", "354 go\r\n");
        return await ReadDataAsync();
    }

    /// <summary>Closes the connection from the server side.</summary>
    public void Close() => _stream?.Dispose();

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }
}
