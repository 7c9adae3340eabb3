using System.IO.Pipelines;
using System.Net;
using System.Net.Security;

namespace AbilisFast.Server.Transport;

/// <summary>
/// The byte stream under a session: a pipe pair over a socket (or over an in-memory pipe in unit
/// tests). STARTTLS replaces <see cref="Input"/> and <see cref="Output"/> with pipes over TLS and
/// throws away whatever plaintext was already buffered (CVE-2011-0411 class).
/// </summary>
internal interface ISessionTransport : IAsyncDisposable
{
    PipeReader Input { get; }
    PipeWriter Output { get; }
    IPEndPoint? LocalEndPoint { get; }
    IPEndPoint? RemoteEndPoint { get; }
    bool IsSecure { get; }

    /// <summary>True when the peer has already sent bytes that nobody has read (pre-greeting check).</summary>
    bool HasPendingInput { get; }

    /// <summary>Discards buffered plaintext and runs the TLS handshake as server.</summary>
    ValueTask UpgradeToTlsAsync(SslServerAuthenticationOptions options, CancellationToken cancellationToken);

    /// <summary>Drops the connection at once (a stuck peer, a timeout while writing).</summary>
    void Abort();
}
