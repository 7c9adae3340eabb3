using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;


namespace AbilisFast.Server.Transport;

/// <summary>
/// Pipes over a connected socket: in plaintext a <see cref="SocketPipeReader"/> (zero-byte reads, so
/// an idle connection waits for data without holding a receive buffer) and a
/// <see cref="SocketPipeWriter"/> (non-blocking sends, the block given back after each flush), both
/// straight on the socket; after STARTTLS, stream pipes over an SslStream. Buffers come from the
/// shared memory pool.
/// </summary>
internal sealed class SocketTransport : ISessionTransport
{
    /// <summary>The TLS pipes' options of the last pool seen, shared by every transport on it (one pool per server).</summary>
    private static TlsPipeOptions? s_tlsOptions;

    private readonly MemoryPool<byte> _pool;
    private readonly Socket _socket;
    private NetworkStream? _network;
    private SslStream? _tls;

    /// <summary>The local end point of the last connection: most connections share it, so sessions share one object.</summary>
    private static IPEndPoint? s_lastLocal;

    /// <param name="remoteAddress">The client's address already normalised by the listener (reused, not made again).</param>
    public SocketTransport(Socket socket, MemoryPool<byte> pool, IPAddress? remoteAddress = null)
    {
        _pool = pool;
        _socket = socket;
        _socket.NoDelay = true;

        // Sends are tried without waiting (SocketPipeWriter); receives are asynchronous either way.
        _socket.Blocking = false;
        Input = new SocketPipeReader(socket, pool);
        Output = new SocketPipeWriter(socket, pool);

        // Normalised (::ffff:a.b.c.d of a dual-stack socket becomes a.b.c.d): what every user of the
        // transport sees, the session, its Received: field and the console alike.
        IPEndPoint? local = PeerAddress.Normalize(socket.LocalEndPoint as IPEndPoint);
        if (local is not null && Volatile.Read(ref s_lastLocal) is { } last && last.Equals(local))
        {
            local = last;
        }
        else
        {
            Volatile.Write(ref s_lastLocal, local);
        }

        LocalEndPoint = local;
        IPEndPoint? remote = socket.RemoteEndPoint as IPEndPoint;
        RemoteEndPoint = remote is not null && remoteAddress is not null && remoteAddress.Equals(PeerAddress.Normalize(remote.Address))
            ? new IPEndPoint(remoteAddress, remote.Port)
            : PeerAddress.Normalize(remote);
    }

    private static TlsPipeOptions OptionsFor(MemoryPool<byte> pool)
    {
        if (Volatile.Read(ref s_tlsOptions) is { } cached && cached.Pool == pool)
        {
            return cached;
        }

        var options = new TlsPipeOptions(
            pool,
            new StreamPipeReaderOptions(pool, bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true),
            new StreamPipeWriterOptions(pool, minimumBufferSize: 4096, leaveOpen: true));
        Volatile.Write(ref s_tlsOptions, options);
        return options;
    }

    // A class, not a record: nothing compares or prints it (see docs/performance.md, The binary's bytes).
    private sealed class TlsPipeOptions(MemoryPool<byte> pool, StreamPipeReaderOptions reader, StreamPipeWriterOptions writer)
    {
        public MemoryPool<byte> Pool { get; } = pool;

        public StreamPipeReaderOptions Reader { get; } = reader;

        public StreamPipeWriterOptions Writer { get; } = writer;
    }

    public PipeReader Input { get; private set; }
    public PipeWriter Output { get; private set; }
    public IPEndPoint? LocalEndPoint { get; }
    public IPEndPoint? RemoteEndPoint { get; }
    public bool IsSecure => _tls is not null;

    public bool HasPendingInput
    {
        get
        {
            try
            {
                return _socket.Available > 0;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }
    }

    public async ValueTask UpgradeToTlsAsync(SslServerAuthenticationOptions options, CancellationToken cancellationToken)
    {
        if (_tls is not null)
        {
            throw new InvalidOperationException("TLS is already active");
        }

        // Completing the plaintext reader drops every byte it buffered past the STARTTLS line.
        await Input.CompleteAsync().ConfigureAwait(false);
        await Output.CompleteAsync().ConfigureAwait(false);
        // A NetworkStream wants a blocking socket (its reads and writes are asynchronous anyway).
        _socket.Blocking = true;
        _network = new NetworkStream(_socket, ownsSocket: false);
        var tls = new SslStream(_network, leaveInnerStreamOpen: true);
        await tls.AuthenticateAsServerAsync(options, cancellationToken).ConfigureAwait(false);
        _tls = tls;
        TlsPipeOptions pipes = OptionsFor(_pool);
        Input = PipeReader.Create(tls, pipes.Reader);
        Output = PipeWriter.Create(tls, pipes.Writer);
    }

    public void Abort()
    {
        try
        {
            _socket.Close(0);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync().ConfigureAwait(false);
        try
        {
            await Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }

        if (_tls is not null)
        {
            try
            {
                // close_notify, so that clients see a clean end of the TLS session.
                await _tls.ShutdownAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
            }

            await _tls.DisposeAsync().ConfigureAwait(false);
        }

        if (_network is not null)
        {
            await _network.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }

        _socket.Dispose();
    }
}
