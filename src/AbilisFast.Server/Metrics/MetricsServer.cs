using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Transport;

namespace AbilisFast.Server.Metrics;

/// <summary>
/// The Prometheus metrics endpoint (METRICS-PORT, METRICS-ADDR): a minimal HTTP/1.1 server of our
/// own that answers <c>GET /metrics</c> (and HEAD) with the text exposition format 0.0.4, and
/// nothing else: another path is 404, another method 405. Limits as on the SMTP side: a request
/// must fit in <see cref="MaxRequestBytes"/> (request line and headers; 431 otherwise) and arrive
/// within <see cref="RequestDeadline"/>; at most <see cref="MaxConnections"/> connections are
/// served at once (503 beyond). One request per connection (Connection: close). With METRICS-TOKEN
/// set the request must carry <c>Authorization: Bearer TOKEN</c> (401 otherwise).
/// </summary>
internal sealed class MetricsServer : IAsyncDisposable
{
    /// <summary>Bytes of request line and headers at most (Prometheus sends about 300).</summary>
    public const int MaxRequestBytes = 4096;

    /// <summary>Connections served at once; more get 503 and are closed.</summary>
    public const int MaxConnections = 4;

    /// <summary>The whole request must arrive, and the response leave, within this time.</summary>
    public static readonly TimeSpan RequestDeadline = TimeSpan.FromSeconds(5);

    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly SmtpContext _context;
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private int _connections;
    private long _served;

    public MetricsServer(SmtpContext context) => _context = context;

    public IPEndPoint? LocalEndPoint => _listener?.LocalEndPoint as IPEndPoint;

    /// <summary>Requests answered with the metrics (for tests).</summary>
    public long Served => Interlocked.Read(ref _served);

    public void Start(IPEndPoint endPoint)
    {
        _listener = Listener.Bind(endPoint, backlog: 16);
        _acceptLoop = Listener.AcceptLoopAsync(_listener, client => _ = ServeAsync(client), _stopping.Token);
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            if (Interlocked.Increment(ref _connections) > MaxConnections)
            {
                try
                {
                    using var busy = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    await SendAsync(client, Response(503, "Service Unavailable", "too many connections to the metrics endpoint\n"), busy.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
                {
                }
                finally
                {
                    Interlocked.Decrement(ref _connections);
                }

                return;
            }

            byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxRequestBytes);
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                deadline.CancelAfter(RequestDeadline);
                byte[]? response = await ReadRequestAsync(client, buffer, deadline.Token).ConfigureAwait(false);
                if (response is not null)
                {
                    await SendAsync(client, response, deadline.Token).ConfigureAwait(false);
                    client.Shutdown(SocketShutdown.Send);
                    await DrainAsync(client, buffer).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Too slow, reset or stopping: the connection is simply closed.
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                Interlocked.Decrement(ref _connections);
            }
        }
    }

    /// <summary>Reads the request head into <paramref name="buffer"/> and returns the whole response to send.</summary>
    private async Task<byte[]?> ReadRequestAsync(Socket client, byte[] buffer, CancellationToken cancel)
    {
        int length = 0;
        int end;
        while ((end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (length == MaxRequestBytes)
            {
                return Response(431, "Request Header Fields Too Large", $"the request head is limited to {MaxRequestBytes} bytes\n");
            }

            int read = await client.ReceiveAsync(buffer.AsMemory(length, MaxRequestBytes - length), SocketFlags.None, cancel).ConfigureAwait(false);
            if (read == 0)
            {
                return null; // closed before a whole request
            }

            length += read;
        }

        // The head is ASCII (RFC 9112); anything else is not a request we answer.
        string head = Encoding.Latin1.GetString(buffer, 0, end);
        string[] lines = head.Split("\r\n");
        string[] request = lines[0].Split(' ');
        if (request.Length != 3 || !request[2].StartsWith("HTTP/1.", StringComparison.Ordinal) || request[0].Length == 0)
        {
            return Response(400, "Bad Request", "malformed request line\n");
        }

        string method = request[0];
        string target = request[1];
        int query = target.IndexOf('?', StringComparison.Ordinal);
        string path = query < 0 ? target : target[..query];
        if (path != "/metrics")
        {
            return Response(404, "Not Found", "only /metrics is served here\n");
        }

        bool headOnly = method == "HEAD";
        if (method != "GET" && !headOnly)
        {
            return Response(405, "Method Not Allowed", "use GET\n", "Allow: GET, HEAD\r\n");
        }

        string token = _context.Settings.MetricsToken;
        if (token.Length > 0 && !Authorized(lines, token))
        {
            return Response(401, "Unauthorized", "a bearer token is required (METRICS-TOKEN)\n", "WWW-Authenticate: Bearer realm=\"abilisfast\"\r\n");
        }

        // Off the socket thread: the snapshot reads /proc and takes the queue and spool locks.
        string text = await Task.Run(() => MetricsExposition.Format(MetricsSnapshot.Take(_context), MetricsFormat.Prometheus), cancel).ConfigureAwait(false);
        Interlocked.Increment(ref _served);
        byte[] body = Encoding.UTF8.GetBytes(text);
        return Response(200, "OK", body, ContentType, string.Empty, includeBody: !headOnly);
    }

    /// <summary>An <c>Authorization: Bearer</c> header whose token equals <paramref name="token"/> (compared in constant time).</summary>
    private static bool Authorized(string[] lines, string token)
    {
        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i];
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !line.AsSpan(0, colon).Equals("Authorization", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            ReadOnlySpan<char> value = line.AsSpan(colon + 1).Trim();
            if (value.Length <= 7 || !value[..7].Equals("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            byte[] given = Encoding.Latin1.GetBytes(value[7..].Trim().ToString());
            return CryptographicOperations.FixedTimeEquals(given, Encoding.Latin1.GetBytes(token));
        }

        return false;
    }

    private static byte[] Response(int status, string reason, string text, string extraHeaders = "") =>
        Response(status, reason, Encoding.ASCII.GetBytes(text), "text/plain; charset=utf-8", extraHeaders, includeBody: true);

    private static byte[] Response(int status, string reason, byte[] body, string contentType, string extraHeaders, bool includeBody)
    {
        string head = string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n{extraHeaders}Connection: close\r\n\r\n");
        byte[] headBytes = Encoding.ASCII.GetBytes(head);
        if (!includeBody)
        {
            return headBytes;
        }

        byte[] response = new byte[headBytes.Length + body.Length];
        headBytes.CopyTo(response, 0);
        body.CopyTo(response, headBytes.Length);
        return response;
    }

    /// <summary>
    /// Reads what the client still sends (a refused oversized request, say) for a moment, so that
    /// closing with unread data does not reset the connection before the client has read the answer.
    /// </summary>
    private static async Task DrainAsync(Socket client, byte[] buffer)
    {
        using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        int total = 0;
        while (total < 64 * 1024)
        {
            int read = await client.ReceiveAsync(buffer.AsMemory(0, MaxRequestBytes), SocketFlags.None, drain.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            total += read;
        }
    }

    private static async Task SendAsync(Socket client, byte[] response, CancellationToken cancel)
    {
        int sent = 0;
        while (sent < response.Length)
        {
            sent += await client.SendAsync(response.AsMemory(sent), SocketFlags.None, cancel).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }
}
