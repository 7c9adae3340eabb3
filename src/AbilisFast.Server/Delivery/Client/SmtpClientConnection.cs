using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using AbilisFast.Protocol.States;

namespace AbilisFast.Server.Delivery;

/// <summary>
/// The client side of one SMTP connection (RFC 5321), used by the OUT sessions: greeting, EHLO with
/// a HELO fallback, then any number of transactions. PIPELINING, SIZE, 8BITMIME, SMTPUTF8 and DSN are
/// used when the server offers them. Replies are read strictly through the same line reader as the
/// IN side: a malformed, oversized or truncated reply, a timeout or a dropped connection is an
/// <see cref="SmtpClientException"/> (temporary) and leaves the connection unusable, never a crash.
/// The message text is sent with bare CR and bare LF turned into CRLF and lines starting with '.'
/// dot-stuffed.
/// </summary>
internal sealed partial class SmtpClientConnection : IAsyncDisposable
{
    /// <summary>Longest reply line accepted (RFC 5321 says 512; some servers send longer text).</summary>
    private const int MaxReplyLine = 2048;

    /// <summary>Most lines one reply may have.</summary>
    private const int MaxReplyLines = 200;

    private const int ReadChunk = 32 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private Stream _stream;
    private SslStream? _tls;
    private PipeReader _reader;
    private readonly SmtpClientOptions _options;
    private readonly Action<SmtpState, TcpState>? _onState;
    private readonly byte[] _scratch = new byte[MaxReplyLine];
    private readonly ArrayBufferWriter<byte> _commands = new(512);
    private SmtpReply? _closingReply;
    private bool _broken;
    private bool _disposed;
    private bool _suppressTrace;
    private long _folds;

    private SmtpClientConnection(Socket socket, SmtpClientOptions options, Action<SmtpState, TcpState>? onState)
    {
        _socket = socket;
        _network = new NetworkStream(socket, ownsSocket: true);
        _stream = _network;
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true));
        _options = options;
        _onState = onState;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        RemoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
    }

    public IPEndPoint LocalEndPoint { get; }

    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>The server's 220 greeting.</summary>
    public SmtpReply Greeting { get; private set; } = new(0, string.Empty);

    /// <summary>What EHLO offered (<see cref="OutboundCapabilities.None"/> after a HELO fallback).</summary>
    public OutboundCapabilities Capabilities { get; private set; } = OutboundCapabilities.None;

    /// <summary>"Tls13 TLS_AES_256_GCM_SHA384, certificate verified for relay.example" once TLS is up, else null.</summary>
    public string? TlsInfo { get; private set; }

    /// <summary>The refusal of STARTTLS under opportunistic TLS (the session went on in plain text), else null.</summary>
    public SmtpReply? StartTlsRefused { get; private set; }

    /// <summary>False once the connection failed, timed out, got a 421 or was closed: do not send on it again.</summary>
    public bool IsUsable => !_broken && !_disposed;

    /// <summary>
    /// Connects, reads the greeting and says EHLO (HELO when EHLO is refused with 5xx). Throws
    /// <see cref="SmtpClientException"/> when the connection cannot be made or the server refuses
    /// to talk (the reply is in the exception).
    /// </summary>
    public static async Task<SmtpClientConnection> ConnectAsync(IPEndPoint endpoint, SmtpClientOptions options,
        Action<SmtpState, TcpState>? onState, CancellationToken cancellationToken)
    {
        onState?.Invoke(SmtpState.WaitConn, TcpState.Calling);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (options.SourceAddress is { } source && source.AddressFamily == endpoint.AddressFamily)
            {
                socket.Bind(new IPEndPoint(source, 0));
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout);
            await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new SmtpClientException($"no connection within {Seconds(options.ConnectTimeout)} s") { TimedOut = true };
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new SmtpClientException(Transport.NetworkErrorText.Describe(e), null, e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new SmtpClientConnection(socket, options, onState);
        try
        {
            await connection.HandshakeAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return connection;
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        SetState(SmtpState.WaitConn, TcpState.Connected);
        if (_options.Security == OutboundSecurity.Tls)
        {
            await StartTlsAsync(opportunistic: false, cancellationToken).ConfigureAwait(false);
        }

        Greeting = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
        if (Greeting.Code != 220)
        {
            await QuitQuietlyAsync(cancellationToken).ConfigureAwait(false);
            throw new SmtpClientException($"the server refused the session: {Greeting}", Greeting);
        }

        SetState(SmtpState.Helo, TcpState.Connected);
        await HelloAsync(cancellationToken).ConfigureAwait(false);
        if (_options.Security == OutboundSecurity.StartTls)
        {
            if (!Capabilities.StartTls)
            {
                await QuitQuietlyAsync(cancellationToken).ConfigureAwait(false);
                throw new SmtpClientException("SERVER-SECURITY is STARTTLS but the server does not offer STARTTLS");
            }

            await WriteCommandsAsync(cancellationToken, "STARTTLS").ConfigureAwait(false);
            SmtpReply go = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            if (go.Code != 220)
            {
                await QuitQuietlyAsync(cancellationToken).ConfigureAwait(false);
                throw new SmtpClientException($"STARTTLS refused: {go}", go.IsPermanent ? new SmtpReply(454, $"4.7.0 {go}") : go);
            }

            await StartTlsAsync(opportunistic: false, cancellationToken).ConfigureAwait(false);
            await HelloAsync(cancellationToken).ConfigureAwait(false); // RFC 3207: forget what was said before TLS
        }
        else if (_options.Security == OutboundSecurity.None && _options.OpportunisticTls && Capabilities.StartTls)
        {
            await OpportunisticTlsAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_options.Credentials is { } credentials)
        {
            if (_tls is null && !_options.AllowPlaintextAuth)
            {
                // Never a password in clear text on the wire unless the operator said so.
                await QuitQuietlyAsync(cancellationToken).ConfigureAwait(false);
                throw new SmtpClientException("SERVER-AUTH is YES but the connection has no TLS: set SERVER-SECURITY:STARTTLS or TLS (or SERVER-AUTH-PLAINTEXT:YES)")
                {
                    Status = "4.7.0",
                };
            }

            await AuthenticateAsync(credentials, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>EHLO, or HELO when EHLO is refused with 5xx; sets <see cref="Capabilities"/>.</summary>
    private async Task HelloAsync(CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        await WriteCommandsAsync(cancellationToken, $"EHLO {_options.HeloHost}").ConfigureAwait(false);
        SmtpReply ehlo = await ReadReplyAsync(_options.CommandTimeout, lines, cancellationToken).ConfigureAwait(false);
        if (ehlo.IsPositive)
        {
            Capabilities = OutboundCapabilities.Parse(lines);
            return;
        }

        if (ehlo.IsPermanent)
        {
            await WriteCommandsAsync(cancellationToken, $"HELO {_options.HeloHost}").ConfigureAwait(false);
            SmtpReply helo = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            if (helo.IsPositive)
            {
                Capabilities = OutboundCapabilities.None;
                return;
            }

            ehlo = helo;
        }

        await QuitQuietlyAsync(cancellationToken).ConfigureAwait(false);
        throw new SmtpClientException($"the server refused EHLO/HELO: {ehlo}", ehlo);
    }

    /// <summary>QUIT and its reply; never throws (the connection is closed afterwards anyway).</summary>
    public async Task QuitAsync(CancellationToken cancellationToken)
    {
        if (_disposed)
        {
            return;
        }

        await QuitQuietlyAsync(cancellationToken).ConfigureAwait(false);
        SetState(SmtpState.Ended, TcpState.Clearing);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _reader.CompleteAsync().ConfigureAwait(false);
        if (_tls is not null)
        {
            await _tls.DisposeAsync().ConfigureAwait(false);
        }

        await _network.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }

    private async Task QuitQuietlyAsync(CancellationToken cancellationToken)
    {
        if (_broken)
        {
            return;
        }

        try
        {
            SetState(SmtpState.Quit, TcpState.Connected);
            await WriteCommandsAsync(cancellationToken, "QUIT").ConfigureAwait(false);
            await ReadReplyAsync(TimeSpan.FromSeconds(Math.Min(10, _options.CommandTimeout.TotalSeconds)), null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SmtpClientException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Nothing to do: the connection is being given up.
        }

        _broken = true;
    }

    private void SetState(SmtpState smtp, TcpState tcp) => _onState?.Invoke(smtp, tcp);

    private static string Verb(string command)
    {
        int space = command.IndexOf(' ');
        return space < 0 ? command : command[..space];
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Printable(string text)
    {
        string shown = text.Length > 80 ? text[..80] + "..." : text;
        return string.Create(shown.Length, shown, static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                span[i] = Protocol.Lines.UnsafeText.IsUnsafe(source[i]) ? '?' : source[i];
            }
        });
    }
}
