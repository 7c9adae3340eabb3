using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using AbilisFast.Server.Transport;

namespace AbilisFast.Fuzz;

/// <summary>
/// The session's byte stream for the harness: the input is either a <see cref="SequencePipeReader"/>
/// (a prepared multi-segment sequence, all of it at once) or a real pipe that the harness feeds in
/// chunks; the replies go into a pipe that never pushes back, so a session that answers a lot
/// never waits for a reader.
/// </summary>
internal sealed class MemoryTransport : ISessionTransport
{
    private static readonly PipeOptions OutputOptions = new(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false);

    public MemoryTransport(PipeReader input)
    {
        Input = input;
        Replies = new Pipe(OutputOptions);
    }

    public PipeReader Input { get; }

    public PipeWriter Output => Replies.Writer;

    /// <summary>Where the session's replies go.</summary>
    public Pipe Replies { get; }

    public IPEndPoint? LocalEndPoint { get; } = new(IPAddress.Loopback, 25);

    public IPEndPoint? RemoteEndPoint { get; } = new(IPAddress.Loopback, 40000);

    public bool IsSecure => false;

    public bool HasPendingInput => false;

    public bool Aborted { get; private set; }

    public ValueTask UpgradeToTlsAsync(SslServerAuthenticationOptions options, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the in-memory transport has no TLS");

    public void Abort()
    {
        Aborted = true;
        Input.CancelPendingRead();
    }

    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync().ConfigureAwait(false);
        await Replies.Writer.CompleteAsync().ConfigureAwait(false);
    }
}
