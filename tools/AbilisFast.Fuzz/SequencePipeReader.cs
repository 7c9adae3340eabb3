using System.Buffers;
using System.IO.Pipelines;

namespace AbilisFast.Fuzz;

/// <summary>
/// A <see cref="PipeReader"/> over one prepared <see cref="ReadOnlySequence{T}"/>: the first read
/// returns all of it, with its segment boundaries exactly as built, and says the writer is done.
/// The session then sees lines, DATA text and BDAT chunks split wherever the segments split them.
/// </summary>
internal sealed class SequencePipeReader(ReadOnlySequence<byte> input) : PipeReader
{
    private ReadOnlySequence<byte> _remaining = input;
    private bool _cancelled;
    private bool _completed;

    /// <summary>What the session has not consumed yet.</summary>
    public ReadOnlySequence<byte> Remaining => _remaining;

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _remaining = _remaining.Slice(consumed);
    }

    public override void CancelPendingRead() => _cancelled = true;

    public override void Complete(Exception? exception = null) => _completed = true;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        TryRead(out ReadResult result);
        return ValueTask.FromResult(result);
    }

    public override bool TryRead(out ReadResult result)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        bool cancelled = _cancelled;
        _cancelled = false;
        result = new ReadResult(_remaining, cancelled, isCompleted: true);
        return true;
    }
}
