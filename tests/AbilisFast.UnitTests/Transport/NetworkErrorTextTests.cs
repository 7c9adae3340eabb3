using System.Net.Sockets;
using System.Security.Authentication;

namespace AbilisFast.Server.Tests.Transport;

/// <summary>
/// The executable's exceptions carry resource keys (UseSystemResourceKeys), as captured from it:
/// each known one becomes a sentence, OpenSSL's own reason is kept, and nothing shows a bare key.
/// </summary>
public sealed class NetworkErrorTextTests
{
    private static Exception OpenSsl(string reason) =>
        new AuthenticationException("net_auth_SSPI",
            new InvalidOperationException("net_ssl_handshake_failed_error, SSL_ERROR_SSL",
                new InvalidOperationException($"error:0A000418:SSL routines::{reason}")));

    public static TheoryData<Exception, string> Cases() => new()
    {
        { new IOException("net_io_eof"), "the other side closed the connection in the middle of the TLS handshake" },
        { new AuthenticationException("net_frame_read_size"), "the other side does not speak TLS here (it sent plain text or something else)" },
        { OpenSsl("tlsv1 alert unknown ca"), "the TLS handshake failed: the other side does not trust our certificate (alert: unknown CA)" },
        { OpenSsl("unsupported protocol"), "the TLS handshake failed: no TLS version in common (the other side offers only versions that are not allowed here; TLS 1.2 and 1.3 are)" },
        { OpenSsl("no shared cipher"), "the TLS handshake failed: no cipher suite in common" },
        { OpenSsl("something new"), "the TLS handshake failed: OpenSSL: something new" },
        { new AuthenticationException("net_auth_SSPI"), "the TLS handshake failed (no reason given by the TLS library)" },
        { new AuthenticationException("net_ssl_io_cert_chain_validation, UntrustedRoot"), "the certificate is not trusted (UntrustedRoot)" },
        { new AuthenticationException("net_ssl_io_cert_validation, RemoteCertificateNameMismatch"), "the certificate does not pass the check (RemoteCertificateNameMismatch)" },
        { new SocketException((int)SocketError.ConnectionRefused), new SocketException((int)SocketError.ConnectionRefused).Message },
        { new IOException("net_io_readfailure", new SocketException((int)SocketError.ConnectionReset)), new SocketException((int)SocketError.ConnectionReset).Message },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ResourceKeysBecomeSentences(Exception e, string expected)
    {
        string text = NetworkErrorText.Describe(e);
        Assert.Equal(expected, text);
        Assert.DoesNotContain("net_", text, StringComparison.Ordinal);
    }
}
