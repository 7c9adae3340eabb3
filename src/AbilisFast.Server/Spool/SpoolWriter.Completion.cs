using System.Threading.Tasks.Sources;

namespace AbilisFast.Server.Spool;

/// <summary>The writer itself is the awaitable of its commit (no allocation per commit).</summary>
internal sealed partial class SpoolWriter : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

    /// <summary>Called by the committer after the commit became durable (error is null) or failed.</summary>
    internal void CompleteCommit(Exception? error)
    {
        if (error is null)
        {
            _state = WriterState.Committed;
            Fragments.Clear();
            Segments.Clear();
            _core.SetResult(true);
        }
        else
        {
            _state = WriterState.Failed;
            Fragments.Clear();
            Segments.Clear();
            _core.SetException(new IOException("spool: commit failed", error));
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
