using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using AbilisFast.Protocol.Replies;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Transport;

namespace AbilisFast.Server.Sessions;

/// <summary>
/// STARTTLS (RFC 3207) and the implicit TLS port. After <c>220 2.0.0 Ready to start TLS</c> the
/// plaintext bytes the client sent past the STARTTLS line are discarded with the plaintext reader,
/// and the session forgets what it learnt before TLS: HELO/EHLO, the transaction and AUTH.
/// </summary>
internal sealed partial class InSession
{
    /// <summary>STARTTLS is listed in EHLO when a certificate is loaded and TLS is not yet active.</summary>
    private bool StartTlsOffered => _context.Tls is not null && !Transport.IsSecure;

    private Step StartTls(ReadOnlySpan<byte> argument)
    {
        if (_context.Tls is null)
        {
            return Error(SmtpReplies.NotImplemented);
        }

        if (Transport.IsSecure)
        {
            return Error(SmtpReplies.TlsAlreadyActive);
        }

        if (!argument.IsEmpty)
        {
            return Error(SmtpReplies.StartTlsSyntax);
        }

        Reply(SmtpReplies.ReadyToStartTls);
        return Step.StartTls;
    }

    /// <summary>
    /// Runs the TLS handshake as server within min(DT, <see cref="ServerTls.MaxHandshakeTime"/>);
    /// a peer that does not finish in time is dropped. False when the session must end.
    /// </summary>
    private async Task<bool> HandshakeAsync()
    {
        ServerTls? tls = _context.Tls;
        if (tls is null)
        {
            return false;
        }

        TimeSpan limit = _context.Settings.InactivityTimeout < ServerTls.MaxHandshakeTime ? _context.Settings.InactivityTimeout : ServerTls.MaxHandshakeTime;
        ISessionTransport transport = Transport;
        Volatile.Write(ref _handshaking, 1);
        try
        {
            using var deadline = new CancellationTokenSource(limit, _context.Time);

            // Cancelling the token is enough for SslStream's reads; closing the socket makes sure.
            using CancellationTokenRegistration drop = deadline.Token.UnsafeRegister(static t => ((ISessionTransport)t!).Abort(), transport);
            try
            {
                SslServerAuthenticationOptions options = await tls.GetOptionsAsync().ConfigureAwait(false);
                await transport.UpgradeToTlsAsync(options, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AuthenticationException or IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                LogSession(deadline.IsCancellationRequested
                    ? $"TLS handshake not completed within {limit.TotalSeconds:0} s: connection dropped"
                    : $"TLS handshake with {_remote} failed: {NetworkErrorText.Describe(e)}");
                return false;
            }
        }
        finally
        {
            Volatile.Write(ref _handshaking, 0);
            Touch();
        }

        _output = transport.Output;
        ResetTransaction();
        ResetAuth();
        _helo.Forget();
        SetState(SmtpState.WaitHelo);
        LogSession("TLS established");
        return true;
    }

    private void LogSession(string text) => _context.Log.Write(LogTag.Channel(_channelNumber), text);
}
