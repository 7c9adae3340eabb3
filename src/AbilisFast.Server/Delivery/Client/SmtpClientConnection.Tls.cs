using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace AbilisFast.Server.Delivery;

/// <summary>STARTTLS on an SMTP client connection: required or opportunistic, the handshake and giving it up.</summary>
internal sealed partial class SmtpClientConnection
{
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
    /// The client's TLS options for <paramref name="host"/>: the chain is built from what the server
    /// sent and the local trust store only, with no revocation check and no download of missing
    /// intermediates (AIA), as Postfix and Exim (OpenSSL) do. The binary leaves the downloader out
    /// (src/AbilisFast/NoCertificateDownloads.xml).
    /// </summary>
    private static SslClientAuthenticationOptions OfflineAuthentication(string host) => new()
    {
        TargetHost = host,
        CertificateChainPolicy = new X509ChainPolicy
        {
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        },
    };

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
        SslClientAuthenticationOptions authentication = OfflineAuthentication(host);
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
}
