using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
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

    private readonly TlsHandshake _handshake;

    /// <param name="input">What the client sends.</param>
    /// <param name="remote">The client's address.</param>
    /// <param name="handshake">What STARTTLS does (see <see cref="TlsHandshake"/>).</param>
    public MemoryTransport(PipeReader input, IPAddress? remote = null, TlsHandshake handshake = TlsHandshake.Unsupported)
    {
        Input = input;
        Replies = new Pipe(OutputOptions);
        RemoteEndPoint = new IPEndPoint(remote ?? IPAddress.Loopback, 40000);
        _handshake = handshake;
    }

    /// <summary>
    /// What an in-memory STARTTLS handshake does: there is no TLS here, only its outcome. The
    /// client's handshake is the marker <see cref="ClientHello"/> (the first bytes of a TLS
    /// handshake record) in what the plaintext reader has not consumed: what comes before it is
    /// plaintext sent after STARTTLS and is thrown away, as with a real socket (the plaintext
    /// reader goes, the TLS stream reads on from the socket); what follows it is what the client
    /// sends over TLS. When it succeeds the transport is secure from then on; when it fails, or
    /// the input holds no marker (the client never started a handshake), the session sees the
    /// <see cref="AuthenticationException"/> a broken handshake gives.
    /// </summary>
    public enum TlsHandshake : byte
    {
        Unsupported,
        Succeeds,
        Fails,
    }

    public PipeReader Input { get; private set; }

    public PipeWriter Output => Replies.Writer;

    /// <summary>Where the session's replies go.</summary>
    public Pipe Replies { get; }

    public IPEndPoint? LocalEndPoint { get; } = new(IPAddress.Loopback, 25);

    public IPEndPoint? RemoteEndPoint { get; }

    public bool IsSecure { get; private set; }

    public bool HasPendingInput => false;

    public bool Aborted { get; private set; }

    public ValueTask UpgradeToTlsAsync(SslServerAuthenticationOptions options, CancellationToken cancellationToken)
    {
        switch (_handshake)
        {
            case TlsHandshake.Succeeds when Input is SequencePipeReader plaintext:
                ReadOnlySequence<byte> rest = plaintext.Remaining;
                plaintext.Complete();
                SequencePosition? hello = FindClientHello(rest);
                if (hello is null)
                {
                    return ValueTask.FromException(new AuthenticationException("in-memory handshake: the client sent no handshake"));
                }

                Input = new SequencePipeReader(rest.Slice(hello.Value));
                IsSecure = true;
                return ValueTask.CompletedTask;
            case TlsHandshake.Fails:
                return ValueTask.FromException(new AuthenticationException("in-memory handshake refused"));
            default:
                throw new NotSupportedException("the in-memory transport has no TLS");
        }
    }

    /// <summary>The bytes that stand for the client's TLS handshake: a handshake record header (content type 22, version 3.x).</summary>
    public static ReadOnlySpan<byte> ClientHello => [0x16, 0x03];

    /// <summary>Where the client's data over TLS starts: just past the first <see cref="ClientHello"/>, or null.</summary>
    private static SequencePosition? FindClientHello(ReadOnlySequence<byte> rest)
    {
        var reader = new SequenceReader<byte>(rest);
        return reader.TryReadTo(out ReadOnlySequence<byte> _, ClientHello, advancePastDelimiter: true) ? reader.Position : null;
    }

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
