using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;

using AbilisFast.Server.Configuration;

namespace AbilisFast.Server.Transport;

/// <summary>
/// Pipes over a connected socket. The reader uses zero-byte reads, so an idle connection waits for
/// data without holding a receive buffer; buffers come from the shared memory pool.
/// </summary>
internal sealed class SocketTransport : ISessionTransport
{
    private readonly StreamPipeReaderOptions _readerOptions;
    private readonly StreamPipeWriterOptions _writerOptions;
    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private SslStream? _tls;

    public SocketTransport(Socket socket, MemoryPool<byte> pool)
    {
        _readerOptions = new StreamPipeReaderOptions(pool, bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true);
        _writerOptions = new StreamPipeWriterOptions(pool, minimumBufferSize: 4096, leaveOpen: true);
        _socket = socket;
        _socket.NoDelay = true;
        _network = new NetworkStream(socket, ownsSocket: false);
        Input = PipeReader.Create(_network, _readerOptions);
        Output = PipeWriter.Create(_network, _writerOptions);
        // Normalised (::ffff:a.b.c.d of a dual-stack socket becomes a.b.c.d): what every user of the
        // transport sees, the session, its Received: field and the console alike.
        LocalEndPoint = PeerAddress.Normalize(socket.LocalEndPoint as IPEndPoint);
        RemoteEndPoint = PeerAddress.Normalize(socket.RemoteEndPoint as IPEndPoint);
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
        var tls = new SslStream(_network, leaveInnerStreamOpen: true);
        await tls.AuthenticateAsServerAsync(options, cancellationToken).ConfigureAwait(false);
        _tls = tls;
        Input = PipeReader.Create(tls, _readerOptions);
        Output = PipeWriter.Create(tls, _writerOptions);
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

        await _network.DisposeAsync().ConfigureAwait(false);
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
