using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AbilisFast.Protocol.Data;
using AbilisFast.Protocol.Lines;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Configuration;
using AbilisFast.Server.Queue;

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
internal sealed class SmtpClientConnection : IAsyncDisposable
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

    /// <summary>
    /// STARTTLS toward a host that offers it, without checking its certificate (MX-TLS:MAY). A refusal
    /// goes on in plain text (<see cref="StartTlsRefused"/>); a failure of the handshake or of the
    /// EHLO right after it throws with <see cref="SmtpClientException.TlsFailed"/>, never as a
    /// permanent failure: broken TLS at the next hop must not bounce mail that plain text would carry.
    /// </summary>
    private async Task OpportunisticTlsAsync(CancellationToken cancellationToken)
    {
        await WriteCommandsAsync(cancellationToken, "STARTTLS").ConfigureAwait(false);
        SmtpReply go = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
        if (go.Code != 220)
        {
            if (!IsUsable)
            {
                throw new SmtpClientException($"STARTTLS answered {go}", go) { TlsFailed = true };
            }

            StartTlsRefused = go;
            _options.Trace?.Invoke($"--- STARTTLS refused ({go}), going on without TLS");
            return;
        }

        try
        {
            await StartTlsAsync(opportunistic: true, cancellationToken).ConfigureAwait(false);
            await HelloAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SmtpClientException e) when (!cancellationToken.IsCancellationRequested)
        {
            _broken = true;
            SmtpReply? reply = e.Reply is { IsPermanent: true } refused ? new SmtpReply(454, $"4.7.0 after STARTTLS: {refused}") : e.Reply;
            throw new SmtpClientException(e.Message, reply, e) { TlsFailed = true };
        }
    }

    /// <summary>
    /// The TLS handshake on the open connection, within <see cref="SmtpClientOptions.TlsHandshakeTimeout"/>;
    /// what was buffered in plain text is dropped. The certificate is checked as
    /// <see cref="SmtpClientOptions.Verification"/> says, not at all when <paramref name="opportunistic"/>.
    /// </summary>
    private async Task StartTlsAsync(bool opportunistic, CancellationToken cancellationToken)
    {
        await _reader.CompleteAsync().ConfigureAwait(false);
        TlsVerification mode = opportunistic ? TlsVerification.None : _options.Verification;
        string host = _options.TlsHost ?? RemoteEndPoint.Address.ToString();
        string? problem = null;
        var tls = new SslStream(_network, leaveInnerStreamOpen: true, (_, certificate, chain, errors) =>
        {
            problem = TlsCertificateCheck.Problem(mode, certificate, chain, errors, host, _options.TlsPins, _options.TlsTrustAnchors);
            return problem is null;
        });
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        TimeSpan deadline = _options.TlsHandshakeTimeout;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        Task handshake = tls.AuthenticateAsClientAsync(authentication, timeout.Token);
        try
        {
            // WaitAsync: the deadline holds even if the handshake does not notice the cancellation.
            await handshake.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await AbandonAsync(tls, handshake).ConfigureAwait(false);
            throw new SmtpClientException($"TLS handshake timed out after {Seconds(deadline)} s") { TimedOut = true };
        }
        catch (AuthenticationException) when (problem is not null)
        {
            await AbandonAsync(tls, handshake).ConfigureAwait(false);
            throw new SmtpClientException($"certificate verification failed: {problem}") { Status = "4.7.5" };
        }
        catch (Exception e) when (e is IOException or AuthenticationException)
        {
            await AbandonAsync(tls, handshake).ConfigureAwait(false);
            throw new SmtpClientException($"TLS handshake failed: {Transport.NetworkErrorText.Describe(e)}", null, e);
        }

        _tls = tls;
        _stream = tls;
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true));
        string checkedAs = mode switch
        {
            TlsVerification.Verify => $"certificate verified for {host}",
            TlsVerification.Pin => "certificate key matches SERVER-TLS-PIN",
            _ when opportunistic => "opportunistic, certificate not verified",
            _ => "certificate not verified (SERVER-TLS-VERIFY:NO)",
        };
        TlsInfo = $"{tls.SslProtocol} {tls.NegotiatedCipherSuite}, {checkedAs}";
        _options.Trace?.Invoke("--- TLS: " + TlsInfo);
    }

    /// <summary>Gives up a handshake that failed or ran out of time: the connection is unusable from here on.</summary>
    private async Task AbandonAsync(SslStream tls, Task handshake)
    {
        _broken = true;
        _ = handshake.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        _network.Dispose(); // ends a handshake still waiting for the server
        await tls.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// AUTH PLAIN (RFC 4616) or, when the server only offers it, AUTH LOGIN. A refusal or a server
    /// without either mechanism is a temporary failure: the credentials may be fixed on the console.
    /// </summary>
    private async Task AuthenticateAsync(NetworkCredential credentials, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> offered = Capabilities.AuthMechanisms;
        SmtpReply reply;
        if (offered.Contains("PLAIN"))
        {
            string token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{credentials.UserName}\0{credentials.Password}"));
            await WriteSecretAsync($"AUTH PLAIN {token}", "AUTH PLAIN ****", cancellationToken).ConfigureAwait(false);
            reply = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
        }
        else if (offered.Contains("LOGIN"))
        {
            await WriteCommandsAsync(cancellationToken, "AUTH LOGIN").ConfigureAwait(false);
            reply = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            if (reply.Code == 334)
            {
                await WriteSecretAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials.UserName)), "(user name)", cancellationToken).ConfigureAwait(false);
                reply = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            }

            if (reply.Code == 334)
            {
                await WriteSecretAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials.Password)), "****", cancellationToken).ConfigureAwait(false);
                reply = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await QuitQuietlyAsync(cancellationToken).ConfigureAwait(false);
            throw new SmtpClientException(offered.Count == 0
                ? "SERVER-AUTH is YES but the server offers no AUTH" + (_tls is null ? " (some servers offer it only after STARTTLS)" : string.Empty)
                : $"SERVER-AUTH is YES but the server offers neither PLAIN nor LOGIN ({string.Join(' ', offered)})");
        }

        if (reply.Code != 235)
        {
            await QuitQuietlyAsync(cancellationToken).ConfigureAwait(false);
            throw new SmtpClientException($"authentication as {credentials.UserName} refused: {reply}",
                reply.IsPermanent ? new SmtpReply(454, $"4.7.0 {reply}") : reply);
        }
    }

    /// <summary>A line that must not appear in the trace as it is.</summary>
    private async Task WriteSecretAsync(string line, string shown, CancellationToken cancellationToken)
    {
        _options.Trace?.Invoke(">>> " + shown);
        _suppressTrace = true;
        try
        {
            await WriteCommandsAsync(cancellationToken, line).ConfigureAwait(false);
        }
        finally
        {
            _suppressTrace = false;
        }
    }

    /// <summary>
    /// One transaction. Refusals come back in the result (per recipient); a lost connection,
    /// timeout or malformed reply throws <see cref="SmtpClientException"/> and the caller must
    /// treat every recipient of the transaction as not delivered.
    /// </summary>
    public async Task<TransactionResult> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_broken)
        {
            throw new SmtpClientException("the connection is no longer usable");
        }

        _folds = 0;

        OutboundCapabilities caps = Capabilities;
        if (message.SmtpUtf8 && !caps.SmtpUtf8)
        {
            return Refused(message, new SmtpReply(553, "5.6.7 the message needs SMTPUTF8 and the next hop does not offer it"));
        }

        if (caps.MaxSize > 0 && message.Size > caps.MaxSize)
        {
            return Refused(message, new SmtpReply(552, $"5.3.4 message size {message.Size} exceeds the limit {caps.MaxSize} of the next hop"));
        }

        string mail = MailCommand(message, caps);
        var rcpts = new string[message.Recipients.Count];
        for (int i = 0; i < rcpts.Length; i++)
        {
            rcpts[i] = RcptCommand(message.Recipients[i], caps);
        }

        var replies = new SmtpReply?[rcpts.Length];
        SmtpReply mailReply;
        SmtpReply? dataReply = null;
        int accepted = 0;
        if (caps.Pipelining)
        {
            // RFC 2920: MAIL, every RCPT and DATA in one write; the replies come back in order.
            SetState(SmtpState.Mail, TcpState.Connected);
            await WriteCommandsAsync(cancellationToken, [mail, .. rcpts, "DATA"]).ConfigureAwait(false);
            mailReply = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            SetState(SmtpState.Rcpt, TcpState.Connected);
            for (int i = 0; i < rcpts.Length; i++)
            {
                replies[i] = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
                accepted += replies[i]!.IsPositive ? 1 : 0;
            }

            SetState(SmtpState.Data, TcpState.Connected);
            SmtpReply go = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            if (go.Code == 354)
            {
                if (mailReply.IsPositive && accepted > 0)
                {
                    dataReply = await SendTextAsync(message, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    // A server that says 354 with no recipient: end the (empty) text at once.
                    await WriteCommandsAsync(cancellationToken, ".").ConfigureAwait(false);
                    await ReadReplyAsync(_options.DataTimeout, null, cancellationToken).ConfigureAwait(false);
                }
            }
            else if (mailReply.IsPositive && accepted > 0)
            {
                dataReply = go;
            }
        }
        else
        {
            SetState(SmtpState.Mail, TcpState.Connected);
            await WriteCommandsAsync(cancellationToken, mail).ConfigureAwait(false);
            mailReply = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            if (mailReply.IsPositive)
            {
                SetState(SmtpState.Rcpt, TcpState.Connected);
                for (int i = 0; i < rcpts.Length && _closingReply is null; i++)
                {
                    await WriteCommandsAsync(cancellationToken, rcpts[i]).ConfigureAwait(false);
                    replies[i] = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
                    accepted += replies[i]!.IsPositive ? 1 : 0;
                }

                for (int i = 0; i < rcpts.Length; i++)
                {
                    replies[i] ??= _closingReply;
                }

                if (accepted > 0)
                {
                    SetState(SmtpState.Data, TcpState.Connected);
                    await WriteCommandsAsync(cancellationToken, "DATA").ConfigureAwait(false);
                    SmtpReply go = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
                    dataReply = go.Code == 354 ? await SendTextAsync(message, cancellationToken).ConfigureAwait(false) : go;
                }
            }
        }

        if ((dataReply is null || !dataReply.IsPositive) && !_broken)
        {
            // The transaction did not complete: make sure the server forgets it before the next one.
            await WriteCommandsAsync(cancellationToken, "RSET").ConfigureAwait(false);
            SmtpReply reset = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            _broken |= !reset.IsPositive;
        }

        return new TransactionResult { MailReply = mailReply, RecipientReplies = replies, DataReply = dataReply, Folds = _folds };
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

    private static TransactionResult Refused(OutboundMessage message, SmtpReply reply) => new()
    {
        MailReply = reply,
        RecipientReplies = new SmtpReply?[message.Recipients.Count],
    };

    private static string MailCommand(OutboundMessage message, OutboundCapabilities caps)
    {
        var command = new StringBuilder("MAIL FROM:<").Append(message.Sender).Append('>');
        if (caps.Size)
        {
            command.Append(" SIZE=").Append(message.Size.ToString(CultureInfo.InvariantCulture));
        }

        if (message.EightBit && caps.EightBitMime)
        {
            command.Append(" BODY=8BITMIME");
        }

        if (message.SmtpUtf8)
        {
            command.Append(" SMTPUTF8");
        }

        if (caps.Dsn)
        {
            if (message.Return != DsnReturn.Unspecified)
            {
                command.Append(message.Return == DsnReturn.Full ? " RET=FULL" : " RET=HDRS");
            }

            if (message.EnvelopeId is { } envelopeId)
            {
                command.Append(" ENVID=").Append(envelopeId);
            }
        }

        return command.ToString();
    }

    private static string RcptCommand(OutboundRecipient recipient, OutboundCapabilities caps)
    {
        var command = new StringBuilder("RCPT TO:<").Append(recipient.Address).Append('>');
        if (caps.Dsn)
        {
            if (recipient.Notify != DsnNotify.None)
            {
                command.Append(" NOTIFY=");
                if ((recipient.Notify & DsnNotify.Never) != 0)
                {
                    command.Append("NEVER");
                }
                else
                {
                    string separator = string.Empty;
                    foreach ((DsnNotify flag, string name) in (ReadOnlySpan<(DsnNotify, string)>)[(DsnNotify.Success, "SUCCESS"), (DsnNotify.Failure, "FAILURE"), (DsnNotify.Delay, "DELAY")])
                    {
                        if ((recipient.Notify & flag) != 0)
                        {
                            command.Append(separator).Append(name);
                            separator = ",";
                        }
                    }
                }
            }

            if (recipient.OriginalRecipient is { } original)
            {
                command.Append(" ORCPT=").Append(original);
            }
        }

        return command.ToString();
    }

    /// <summary>
    /// Streams the message text and returns the final reply. Everything done to the stored text on
    /// its way out happens in <see cref="WireText"/>, in this order: line ends normalised to CRLF and
    /// lines over 998 octets folded (<see cref="OutgoingText"/>), dot-stuffed, then ".".
    /// </summary>
    private async Task<SmtpReply> SendTextAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        SetState(SmtpState.Text, TcpState.Connected);
        byte[] input = ArrayPool<byte>.Shared.Rent(ReadChunk);
        var wire = new WireText(ReadChunk);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            if (message.Prefix.Length > 0)
            {
                // Header fields added on the way out (DKIM-Signature): complete CRLF lines before the text.
                timeout.CancelAfter(_options.DataTimeout);
                await _stream.WriteAsync(wire.EncodePrefix(message.Prefix.Span), timeout.Token).ConfigureAwait(false);
            }

            Stream body = message.OpenBody();
            await using (body.ConfigureAwait(false))
            {
                int read;
                while ((read = await body.ReadAsync(input.AsMemory(0, ReadChunk), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    ReadOnlyMemory<byte> chunk = wire.Encode(input.AsSpan(0, read));
                    timeout.CancelAfter(_options.DataTimeout);
                    await _stream.WriteAsync(chunk, timeout.Token).ConfigureAwait(false);
                }
            }

            ReadOnlyMemory<byte> end = wire.Finish();
            timeout.CancelAfter(_options.DataTimeout);
            await _stream.WriteAsync(end, timeout.Token).ConfigureAwait(false);
            _options.Trace?.Invoke($">>> ({message.Size} octets of message text) .");
            _folds = wire.Folds;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _broken = true;
            throw new SmtpClientException($"sending the message text timed out after {Seconds(_options.DataTimeout)} s") { TimedOut = true };
        }
        catch (IOException e)
        {
            _broken = true;
            throw new SmtpClientException($"connection lost while sending the message text: {Transport.NetworkErrorText.Describe(e)}", null, e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
            wire.Dispose();
        }

        SetState(SmtpState.Eot, TcpState.Connected);
        return await ReadReplyAsync(_options.DataTimeout, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The outgoing text writer: stored text in, the bytes that go on the wire out. Stage by stage:
    /// <see cref="OutgoingText"/> (CRLF line ends, lines over 998 octets broken with CRLF SPACE as
    /// Postfix's smtp_line_length_limit: the message as the next hop will store it, and as the DKIM
    /// signer hashed it), <see cref="DotStuffEncoder"/> (RFC 5321 4.5.2 transparency) and the final
    /// ".". Header fields added on the way out (the DKIM signatures) go before the text, stuffed only.
    /// </summary>
    private sealed class WireText : IDisposable
    {
        private readonly OutgoingText _text;
        private readonly byte[] _output;
        private DotStuffEncoder _dots;

        public WireText(int chunk)
        {
            _text = new OutgoingText(chunk);
            _output = ArrayPool<byte>.Shared.Rent((2 * OutgoingText.MaxOutput(chunk)) + DotStuffer.MaxFinishLength);
        }

        /// <summary>CRLF SPACE breaks inserted into lines longer than 998 octets (for the session log).</summary>
        public long Folds => _text.Folds;

        /// <summary>
        /// Complete CRLF lines that go before the text (the DKIM-Signature fields, short lines), only
        /// dot-stuffed; they must fit the buffer (a few KiB at most). Valid until the next call.
        /// </summary>
        public ReadOnlyMemory<byte> EncodePrefix(ReadOnlySpan<byte> fields)
        {
            if ((2 * fields.Length) > _output.Length)
            {
                throw new ArgumentException("header fields added on the way out are too long", nameof(fields));
            }

            _dots.Encode(fields, _output, out _, out int written);
            return _output.AsMemory(0, written);
        }

        /// <summary>One chunk of stored text as it goes on the wire (valid until the next call).</summary>
        public ReadOnlyMemory<byte> Encode(ReadOnlySpan<byte> stored) => Stuff(_text.Transform(stored), finish: false);

        /// <summary>What is left after the last chunk, and the end of data.</summary>
        public ReadOnlyMemory<byte> Finish() => Stuff(_text.Flush(), finish: true);

        private ReadOnlyMemory<byte> Stuff(ReadOnlySpan<byte> text, bool finish)
        {
            _dots.Encode(text, _output, out _, out int written);
            if (finish)
            {
                _dots.Finish(_output.AsSpan(written), out int end);
                written += end;
            }

            return _output.AsMemory(0, written);
        }

        public void Dispose()
        {
            _text.Dispose();
            ArrayPool<byte>.Shared.Return(_output);
        }
    }

    private async Task WriteCommandsAsync(CancellationToken cancellationToken, params string[] commands)
    {
        _commands.ResetWrittenCount();
        foreach (string command in commands)
        {
            if (!_suppressTrace)
            {
                _options.Trace?.Invoke(">>> " + command);
            }

            int max = Encoding.UTF8.GetMaxByteCount(command.Length) + 2;
            Span<byte> span = _commands.GetSpan(max);
            int length = Encoding.UTF8.GetBytes(command, span);
            span[length++] = (byte)'\r';
            span[length++] = (byte)'\n';
            _commands.Advance(length);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.CommandTimeout);
        try
        {
            await _stream.WriteAsync(_commands.WrittenMemory, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _broken = true;
            throw new SmtpClientException($"sending {Verb(commands[0])} timed out after {Seconds(_options.CommandTimeout)} s") { TimedOut = true };
        }
        catch (IOException e)
        {
            _broken = true;
            throw new SmtpClientException($"connection lost while sending {Verb(commands[0])}: {Transport.NetworkErrorText.Describe(e)}", null, e);
        }
    }

    /// <summary>
    /// Reads one complete reply. Every line must be "ddd-text" (more follow) or "ddd text"/"ddd" (last),
    /// with one code throughout. After a 421 the server is closing: that reply stands for every later one.
    /// </summary>
    private async Task<SmtpReply> ReadReplyAsync(TimeSpan timeout, List<string>? lines, CancellationToken cancellationToken)
    {
        if (_closingReply is { } closing)
        {
            return closing;
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        int code = -1;
        int count = 0;
        var text = new StringBuilder();
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _reader.ReadAsync(timer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                _broken = true;
                throw new SmtpClientException($"no reply within {Seconds(timeout)} s") { TimedOut = true };
            }
            catch (IOException e)
            {
                _broken = true;
                throw new SmtpClientException($"connection lost while waiting for a reply: {Transport.NetworkErrorText.Describe(e)}", null, e);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            string? error = null;
            bool done = false;
            while (!done && error is null)
            {
                LineStatus status = LineReader.TryRead(ref buffer, _scratch, MaxReplyLine, out ReadOnlySpan<byte> line, out _);
                if (status == LineStatus.Incomplete)
                {
                    break;
                }

                if (status == LineStatus.TooLong)
                {
                    error = $"reply line longer than {MaxReplyLine} octets";
                    break;
                }

                string lineText = Encoding.UTF8.GetString(line);
                _options.Trace?.Invoke("<<< " + lineText);
                error = ParseLine(line, ref code, out bool last);
                if (error is null)
                {
                    if (++count > MaxReplyLines)
                    {
                        error = $"reply longer than {MaxReplyLines} lines";
                        break;
                    }

                    string part = lineText.Length > 4 ? lineText[4..] : string.Empty;
                    lines?.Add(part);
                    text.Append(text.Length > 0 && part.Length > 0 ? " " : string.Empty).Append(part);
                    done = last;
                }
                else
                {
                    error = $"{error}: \"{Printable(lineText)}\"";
                }
            }

            if (error is not null)
            {
                _reader.AdvanceTo(buffer.Start, buffer.End);
                _broken = true;
                throw new SmtpClientException("malformed reply, " + error);
            }

            if (done)
            {
                // Only what was used is examined: pipelined replies may already wait in the buffer.
                _reader.AdvanceTo(buffer.Start);
                var reply = new SmtpReply(code, text.ToString());
                if (code == 421)
                {
                    _closingReply = reply;
                    _broken = true;
                }

                return reply;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                _broken = true;
                throw new SmtpClientException(count == 0 ? "connection closed by the server" : "connection closed in the middle of a reply");
            }
        }
    }

    /// <summary>Checks one reply line; null when it is well formed.</summary>
    private static string? ParseLine(ReadOnlySpan<byte> line, ref int code, out bool last)
    {
        last = false;
        if (line.Length < 3 || line[0] is < (byte)'2' or > (byte)'5' || line[1] is < (byte)'0' or > (byte)'5' || !char.IsAsciiDigit((char)line[2]))
        {
            return "no reply code";
        }

        int lineCode = ((line[0] - '0') * 100) + ((line[1] - '0') * 10) + (line[2] - '0');
        if (code >= 0 && lineCode != code)
        {
            return $"code {lineCode} inside a {code} reply";
        }

        code = lineCode;
        if (line.Length == 3 || line[3] == (byte)' ')
        {
            last = true;
            return null;
        }

        return line[3] == (byte)'-' ? null : "neither ' ' nor '-' after the code";
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
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }
}
