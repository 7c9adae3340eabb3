using System.Text;
using AbilisFast.Server.Spool;
using BenchmarkDotNet.Attributes;

namespace AbilisFast.Bench;

/// <summary>
/// A whole IN transaction through a real <see cref="Server.Sessions.InSession"/> over in-memory
/// pipes: MAIL FROM (with SIZE), RCPT TO, DATA, the dot-stuffed text and the final dot, pipelined,
/// until the four replies are back. <see cref="Sink"/> runs with SINK:YES and inline pipe
/// schedulers: the protocol path alone, on the benchmark thread. <see cref="Durable"/> stores the
/// message in a real spool (fsync on, so the 250 waits for fdatasync) with thread-pool schedulers,
/// as the server runs; the message is then marked done so the spool does not grow.
/// </summary>
[MemoryDiagnoser]
public class InTransactionBenchmarks
{
    private const int Replies = 4;

    private byte[] _transaction = [];
    private BenchServer? _sinkServer;
    private BenchServer? _durableServer;
    private PipeSession? _sinkSession;
    private PipeSession? _durableSession;

    [Params(1024, 64 * 1024)]
    public int BodyBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        byte[] commands = Encoding.ASCII.GetBytes(
            $"MAIL FROM:<sender@client.example> SIZE={BodyBytes} BODY=8BITMIME\r\nRCPT TO:<user@local.test>\r\nDATA\r\n");
        _transaction = [.. commands, .. MessageText.Wire(MessageText.Raw(BodyBytes))];

        _sinkServer = new BenchServer(new SpoolOptions { SegmentSize = 4L << 20 }, "SINK:YES");
        _sinkSession = PipeSession.StartAsync(_sinkServer.Context, inline: true).GetAwaiter().GetResult();
        _sinkSession.ExchangeAsync("EHLO client.example\r\n"u8.ToArray(), 1).AsTask().GetAwaiter().GetResult();

        // The host's segment size; fsync stays on (the default).
        _durableServer = new BenchServer(new SpoolOptions { SegmentSize = 16L << 20, MinFreeBytes = 16L << 20 });
        _durableSession = PipeSession.StartAsync(_durableServer.Context, inline: false).GetAwaiter().GetResult();
        _durableSession.ExchangeAsync("EHLO client.example\r\n"u8.ToArray(), 1).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sinkSession?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _durableSession?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _sinkServer?.Dispose();
        _durableServer?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public ValueTask<long> Sink() => _sinkSession!.ExchangeAsync(_transaction, Replies);

    [Benchmark]
    public async Task<long> Durable()
    {
        long replies = await _durableSession!.ExchangeAsync(_transaction, Replies).ConfigureAwait(false);
        if (_durableServer!.ReleaseQueued() != 1)
        {
            throw new InvalidOperationException("the message was not queued");
        }

        return replies;
    }
}
