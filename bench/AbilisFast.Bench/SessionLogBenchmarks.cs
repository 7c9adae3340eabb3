using AbilisFast.Server.Diagnostics;
using BenchmarkDotNet.Attributes;

namespace AbilisFast.Bench;

/// <summary>
/// Session log ring writes: <see cref="LinesPerInvoke"/> lines shared out over <see cref="Threads"/>
/// threads writing at once into one 64512-byte ring (so it wraps many times). The time shown is per
/// line, the whole batch's wall time divided by the lines: on a 2-core machine, 8 threads measure
/// oversubscription, not more parallelism.
/// </summary>
[MemoryDiagnoser]
public class SessionLogBenchmarks
{
    private const int LinesPerInvoke = 8000;

    private SessionLog _log = new();
    private ThreadGang? _gang;
    private byte[] _line = [];
    private Action<int> _writeUtf8 = static _ => { };
    private Action<int> _writeFormatted = static _ => { };

    [Params(1, 2, 8)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _log = new SessionLog();
        _gang = new ThreadGang(Threads);
        _line = "<- MAIL FROM:<newsletter-bounces@lists.example.com> SIZE=48213 BODY=8BITMIME"u8.ToArray();
        int share = LinesPerInvoke / Threads;
        _writeUtf8 = index =>
        {
            LogTag tag = LogTag.Channel(index + 1);
            ReadOnlySpan<byte> line = _line;
            for (int i = 0; i < share; i++)
            {
                _log.Write(tag, line);
            }
        };
        _writeFormatted = index =>
        {
            LogTag tag = LogTag.Channel(index + 1);
            for (int i = 0; i < share; i++)
            {
                _log.Write(tag, $"Delivering message: {(uint)i:X8} to mx{index}.example.net, attempt {i & 7}");
            }
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _gang?.Dispose();

    /// <summary>A line already in UTF-8 (a traced command).</summary>
    [Benchmark(OperationsPerInvoke = LinesPerInvoke)]
    public void WriteUtf8() => _gang!.Run(_writeUtf8);

    /// <summary>A line formatted by the interpolated-string handler straight into the stack buffer.</summary>
    [Benchmark(OperationsPerInvoke = LinesPerInvoke)]
    public void WriteFormatted() => _gang!.Run(_writeFormatted);
}
