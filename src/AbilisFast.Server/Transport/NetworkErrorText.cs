using System.Net.Sockets;
using System.Security.Authentication;

namespace AbilisFast.Server.Transport;

/// <summary>
/// TLS and connection errors in words. The executable is built with UseSystemResourceKeys (it
/// saves the runtime's message tables), so a .NET exception's Message is a bare resource key
/// such as <c>net_auth_SSPI</c> or <c>net_io_eof</c>: what the session log and the console show is
/// made here instead, from the exception's type, that key and, for a refused handshake, OpenSSL's
/// own reason (its text is not a .NET resource, so it survives).
/// </summary>
internal static class NetworkErrorText
{
    /// <summary>One sentence (no final period) saying what went wrong.</summary>
    public static string Describe(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e is SocketException socket)
        {
            return Socket(socket);
        }

        // The innermost exception holds OpenSSL's reason when the TLS library refused.
        string? openSsl = null;
        SocketException? innerSocket = null;
        for (Exception? x = e.InnerException; x is not null; x = x.InnerException)
        {
            if (x.Message.StartsWith("error:", StringComparison.Ordinal))
            {
                openSsl = OpenSslReason(x.Message);
            }

            innerSocket ??= x as SocketException;
        }

        if (innerSocket is not null && openSsl is null)
        {
            return Socket(innerSocket);
        }

        string key = Key(e.Message);
        return key switch
        {
            "net_io_eof" or "net_io_connectionclosed" => "the other side closed the connection in the middle of the TLS handshake",
            "net_frame_read_size" or "net_ssl_io_frame" or "net_io_header_id" or "net_frame_read_io" =>
                "the other side does not speak TLS here (it sent plain text or something else)",
            "net_auth_SSPI" or "net_ssl_handshake_failed_error" when openSsl is not null => $"the TLS handshake failed: {openSsl}",
            "net_auth_SSPI" or "net_ssl_handshake_failed_error" => "the TLS handshake failed (no reason given by the TLS library)",
            "net_ssl_io_cert_chain_validation" => $"the certificate is not trusted ({Arguments(e.Message)})",
            "net_ssl_io_cert_validation" => $"the certificate does not pass the check ({Arguments(e.Message)})",
            "net_io_readfailure" or "net_io_writefailure" => "the connection failed while reading or writing",
            "net_ssl_renegotiate_buffer" or "net_ssl_renegotiate_data" => "the other side asked for a TLS renegotiation, which is not supported",
            _ when e is AuthenticationException => $"the TLS handshake failed ({Fallback(e, openSsl)})",
            _ when e is IOException && openSsl is not null => $"the TLS connection failed: {openSsl}",
            _ when e is IOException => $"the connection failed ({Fallback(e, openSsl)})",
            _ => Fallback(e, openSsl),
        };
    }

    /// <summary>
    /// OpenSSL's reason, from <c>error:0A000418:SSL routines::tlsv1 alert unknown ca</c>, said
    /// plainly for the alerts a mail server meets; the reason as OpenSSL words it otherwise.
    /// </summary>
    private static string OpenSslReason(string message)
    {
        int last = message.LastIndexOf(':');
        string reason = last >= 0 ? message[(last + 1)..].Trim() : message;
        return reason switch
        {
            "unsupported protocol" => "no TLS version in common (the other side offers only versions that are not allowed here; TLS 1.2 and 1.3 are)",
            "no shared cipher" => "no cipher suite in common",
            "wrong version number" => "the other side does not speak TLS (wrong version number)",
            "tlsv1 alert unknown ca" => "the other side does not trust our certificate (alert: unknown CA)",
            "sslv3 alert bad certificate" or "tlsv1 alert bad certificate" => "the other side refused our certificate (alert: bad certificate)",
            "sslv3 alert certificate unknown" or "tlsv1 alert certificate unknown" => "the other side refused our certificate (alert: certificate unknown)",
            "sslv3 alert certificate expired" => "the other side says a certificate has expired (alert: certificate expired)",
            "tlsv1 alert protocol version" => "no TLS version in common (alert: protocol version)",
            "sslv3 alert handshake failure" => "the other side ended the handshake (alert: handshake failure; often no cipher or version in common)",
            "unexpected message" => "the other side broke the TLS protocol (unexpected message)",
            "http request" => "the other side sent an HTTP request, not TLS",
            _ => $"OpenSSL: {reason}",
        };
    }

    /// <summary>A socket error's message is the system's own text (strerror), readable as it is.</summary>
    private static string Socket(SocketException e) =>
        e.Message.Length > 0 && !e.Message.StartsWith("net_", StringComparison.Ordinal) ? e.Message : $"socket error {e.SocketErrorCode}";

    /// <summary>The resource key of a message "key, argument, ..." (the whole message when it is not one).</summary>
    private static string Key(string message)
    {
        int comma = message.IndexOf(',');
        return comma < 0 ? message : message[..comma];
    }

    private static string Arguments(string message)
    {
        int comma = message.IndexOf(',');
        return comma < 0 ? "no detail" : message[(comma + 1)..].Trim();
    }

    private static string Fallback(Exception e, string? openSsl) =>
        openSsl ?? (e.Message.Length > 0 ? $"{e.GetType().Name}: {e.Message}" : e.GetType().Name);
}
