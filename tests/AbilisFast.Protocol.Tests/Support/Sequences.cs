using System.Buffers;

namespace AbilisFast.Protocol.Tests.Support;

/// <summary>Builds multi-segment sequences, e.g. one byte per segment, to exercise split-line paths.</summary>
internal static class Sequences
{
    public static ReadOnlySequence<byte> Split(ReadOnlySpan<byte> data, int segmentSize)
    {
        if (data.IsEmpty)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Segment first = new(data[..Math.Min(segmentSize, data.Length)].ToArray(), 0);
        Segment last = first;
        for (int i = segmentSize; i < data.Length; i += segmentSize)
        {
            last = last.Append(data.Slice(i, Math.Min(segmentSize, data.Length - i)).ToArray());
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    public static ReadOnlySequence<byte> SplitAt(ReadOnlySpan<byte> data, int at)
    {
        if (at <= 0 || at >= data.Length)
        {
            return new ReadOnlySequence<byte>(data.ToArray());
        }

        Segment first = new(data[..at].ToArray(), 0);
        Segment last = first.Append(data[at..].ToArray());
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] data)
        {
            var next = new Segment(data, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
