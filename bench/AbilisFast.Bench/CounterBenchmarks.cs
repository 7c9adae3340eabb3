using AbilisFast.Server.Diagnostics;
using BenchmarkDotNet.Attributes;

namespace AbilisFast.Bench;

/// <summary>
/// The interlocked SMTP counters: one increment, the resource-plus-channel pair a session counts
/// with, a snapshot of all 32 cells (the console and <c>d m smtp</c>), and the same resource counter
/// incremented from 1, 2 and 8 threads at once (per increment: the batch's wall time divided by
/// <see cref="IncrementsPerInvoke"/>).
/// </summary>
[MemoryDiagnoser]
public class CounterBenchmarks
{
    private const int IncrementsPerInvoke = 80_000;

    private readonly Dictionary<int, ThreadGang> _gangs = [];
    private SmtpCounters _resource = new(DateTimeOffset.UnixEpoch);
    private SmtpCounters _channel = new(DateTimeOffset.UnixEpoch);
    private Action<int>[] _increment = [];

    [GlobalSetup]
    public void Setup()
    {
        _resource = new SmtpCounters(DateTimeOffset.UtcNow);
        _channel = new SmtpCounters(DateTimeOffset.UtcNow);
        foreach (int threads in new[] { 1, 2, 8 })
        {
            _gangs[threads] = new ThreadGang(threads);
        }

        _increment = new Action<int>[9];
        foreach (int threads in _gangs.Keys)
        {
            int share = IncrementsPerInvoke / threads;
            _increment[threads] = _ =>
            {
                for (int i = 0; i < share; i++)
                {
                    _resource.Increment(SmtpCounter.CallSucc, Direction.In);
                }
            };
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (ThreadGang gang in _gangs.Values)
        {
            gang.Dispose();
        }
    }

    [Benchmark]
    public void Increment() => _resource.Increment(SmtpCounter.LocalSucc, Direction.In);

    /// <summary>What SmtpContext.Count does: the resource's counter and the channel's own.</summary>
    [Benchmark]
    public void CountResourceAndChannel()
    {
        _resource.Increment(SmtpCounter.RelaySucc, Direction.Out);
        _channel.Increment(SmtpCounter.RelaySucc, Direction.Out);
    }

    [Benchmark]
    public void AddBytes() => _resource.Add(SmtpCounter.ExtSucc, Direction.In, 4096);

    [Benchmark]
    public long Snapshot() => _resource.Snapshot()[SmtpCounter.CallSucc, Direction.In] ?? -1;

    [Benchmark(OperationsPerInvoke = IncrementsPerInvoke)]
    [Arguments(1)]
    [Arguments(2)]
    [Arguments(8)]
    public void ParallelIncrement(int threads) => _gangs[threads].Run(_increment[threads]);
}
