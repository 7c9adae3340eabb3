using AbilisFast.Server.Spool;
using BenchmarkDotNet.Attributes;

namespace AbilisFast.Bench;

/// <summary>
/// Spool commits of a 4 KiB message with its envelope: one at a time (every commit waits for its own
/// fdatasync round), and <see cref="Concurrency"/> commits issued together so the committer thread
/// covers them with shared sync rounds (time per message). Each message is marked done afterwards,
/// so the spool keeps recycling its segments. <see cref="Fsync"/> false isolates the write path
/// from the disk flush. The spool lives in a temporary directory (see <see cref="BenchServer.CreateWorkDir"/>).
/// </summary>
[MemoryDiagnoser]
public class SpoolCommitBenchmarks
{
    private const int Concurrency = 32;

    private string _directory = string.Empty;
    private SpoolStore? _spool;
    private byte[] _body = [];
    private byte[] _envelope = [];
    private readonly SpoolWriter[] _writers = new SpoolWriter[Concurrency];
    private readonly ValueTask[] _commits = new ValueTask[Concurrency];

    [Params(true, false)]
    public bool Fsync { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = BenchServer.CreateWorkDir("abilisfast-bench-spool-");
        _spool = SpoolStore.Open(_directory, new SpoolOptions { SegmentSize = 16L << 20, MinFreeBytes = 16L << 20, Fsync = Fsync }, out _);
        _body = MessageText.Raw(4096);
        _envelope = "F<sender@client.example>\nR<user@local.test>\nR<other.user@local.test>\nS4096\nB8BITMIME\nHclient-17.mail.example.net\nA192.0.2.17\n"u8.ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_spool is not null)
        {
            // The grouping achieved, for the log: 1.0 means one sync per commit.
            Console.WriteLine($"// spool (fsync {Fsync}): {_spool.CommitsCompleted} commits, {_spool.SyncRounds} sync rounds, "
                + $"{(double)_spool.CommitsCompleted / Math.Max(1, _spool.SyncRounds):F1} commits per round");
            _spool.Dispose();
        }

        BenchServer.DeleteWorkDir(_directory);
    }

    [Benchmark(Baseline = true)]
    public async Task SingleCommit()
    {
        SpoolStore spool = _spool!;
        uint id = spool.NextId();
        SpoolWriter writer = spool.BeginMessage(id);
        try
        {
            writer.Write(_body);
            await writer.CommitAsync(_envelope).ConfigureAwait(false);
        }
        finally
        {
            writer.Dispose();
        }

        spool.MarkDone(id);
    }

    [Benchmark(OperationsPerInvoke = Concurrency)]
    public async Task GroupedCommits()
    {
        SpoolStore spool = _spool!;
        for (int i = 0; i < Concurrency; i++)
        {
            SpoolWriter writer = spool.BeginMessage(spool.NextId());
            writer.Write(_body);
            _writers[i] = writer;
            _commits[i] = writer.CommitAsync(_envelope);
        }

        for (int i = 0; i < Concurrency; i++)
        {
            await _commits[i].ConfigureAwait(false);
            uint id = _writers[i].Id;
            _writers[i].Dispose();
            spool.MarkDone(id);
        }
    }
}
