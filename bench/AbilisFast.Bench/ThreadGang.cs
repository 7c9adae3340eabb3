namespace AbilisFast.Bench;

/// <summary>
/// Runs one piece of work on <see cref="Size"/> threads at once, per call of <see cref="Run"/>: the
/// caller's thread plus <c>Size - 1</c> workers started once, all released together by a barrier,
/// so a benchmark measures the work and not thread start-up. Each thread gets its index.
/// </summary>
internal sealed class ThreadGang : IDisposable
{
    private readonly Barrier? _barrier;
    private readonly Thread[] _workers;
    private Action<int> _work = static _ => { };
    private volatile bool _stopping;

    public ThreadGang(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        Size = size;
        _barrier = size > 1 ? new Barrier(size) : null;
        _workers = new Thread[size - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            int index = i + 1;
            _workers[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"bench-gang-{index}" };
            _workers[i].Start();
        }
    }

    public int Size { get; }

    /// <summary>Runs <paramref name="work"/>(index) on every thread of the gang and returns when all are done.</summary>
    public void Run(Action<int> work)
    {
        if (_barrier is null)
        {
            work(0);
            return;
        }

        _work = work;
        _barrier.SignalAndWait();
        work(0);
        _barrier.SignalAndWait();
    }

    private void WorkerLoop(int index)
    {
        Barrier barrier = _barrier!;
        while (true)
        {
            barrier.SignalAndWait();
            if (_stopping)
            {
                return;
            }

            _work(index);
            barrier.SignalAndWait();
        }
    }

    public void Dispose()
    {
        if (_barrier is null)
        {
            return;
        }

        _stopping = true;
        _barrier.SignalAndWait();
        foreach (Thread worker in _workers)
        {
            worker.Join();
        }

        _barrier.Dispose();
    }
}
