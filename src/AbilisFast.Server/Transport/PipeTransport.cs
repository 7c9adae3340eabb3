using System.IO.Pipelines;
using System.Net;
using System.Net.Security;

namespace AbilisFast.Server.Transport;

/// <summary>
/// An in-memory transport for unit tests of the session: the test writes client bytes into
/// <see cref="ClientToServer"/> and reads replies from <see cref="ServerToClient"/>.
/// </summary>
internal sealed class PipeTransport : ISessionTransport
{
    public PipeTransport(IPEndPoint remote, IPEndPoint? local = null)
    {
        RemoteEndPoint = remote;
        LocalEndPoint = local ?? new IPEndPoint(IPAddress.Loopback, 25);
    }

    public Pipe ClientToServer { get; } = new(new PipeOptions(useSynchronizationContext: false));
    public Pipe ServerToClient { get; } = new(new PipeOptions(useSynchronizationContext: false));
    public PipeReader Input => ClientToServer.Reader;
    public PipeWriter Output => ServerToClient.Writer;
    public IPEndPoint? LocalEndPoint { get; }
    public IPEndPoint? RemoteEndPoint { get; }
    public bool IsSecure => false;
    public bool Aborted { get; private set; }

    /// <summary>Set by a test to simulate a client that spoke before the greeting.</summary>
    public bool HasPendingInput { get; set; }

    public ValueTask UpgradeToTlsAsync(SslServerAuthenticationOptions options, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the in-memory transport has no TLS");

    public void Abort()
    {
        Aborted = true;
        ClientToServer.Reader.CancelPendingRead();
    }

    public async ValueTask DisposeAsync()
    {
        await ClientToServer.Reader.CompleteAsync().ConfigureAwait(false);
        await ServerToClient.Writer.CompleteAsync().ConfigureAwait(false);
    }
}
