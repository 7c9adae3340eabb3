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
    /// <param name="inline">Run continuations inline on the writing thread (single-threaded allocation tests).</param>
    public PipeTransport(IPEndPoint remote, IPEndPoint? local = null, bool inline = false)
    {
        RemoteEndPoint = remote;
        LocalEndPoint = local ?? new IPEndPoint(IPAddress.Loopback, 25);
        var options = inline
            ? new PipeOptions(BlockMemoryPool.Instance, PipeScheduler.Inline, PipeScheduler.Inline, useSynchronizationContext: false)
            : new PipeOptions(BlockMemoryPool.Instance, useSynchronizationContext: false);
        ClientToServer = new Pipe(options);
        ServerToClient = new Pipe(options);
    }

    public Pipe ClientToServer { get; }
    public Pipe ServerToClient { get; }
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
