namespace AbilisFast.Testing;

/// <summary>
/// Builds multi-segment <see cref="ReadOnlySequence{T}"/>s with chosen boundaries, as a pipe hands
/// them out after several reads: for the split-line paths of the tests, the fuzz harness and the
/// benchmarks. Each segment gets its own array, so a reader that strays past a boundary reads
/// nothing it should not.
/// </summary>
public static class Sequences
{
    /// <summary><paramref name="data"/> in segments of <paramref name="size"/> bytes (the last one shorter).</summary>
    public static ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> data, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        return Cut(data, Enumerable.Repeat(size, (data.Length + size - 1) / size));
    }

    /// <summary>Two segments cut at <paramref name="at"/>; one segment when <paramref name="at"/> is at either end.</summary>
    public static ReadOnlySequence<byte> SplitAt(ReadOnlyMemory<byte> data, int at) =>
        at <= 0 || at >= data.Length ? new ReadOnlySequence<byte>(data.ToArray()) : Cut(data, [at]);

    /// <summary><paramref name="data"/> cut at the given segment lengths (clamped; what is left over is one more segment).</summary>
    public static ReadOnlySequence<byte> Cut(ReadOnlyMemory<byte> data, IEnumerable<int> lengths)
    {
        Segment? first = null;
        Segment? last = null;
        int position = 0;
        foreach (int wanted in lengths)
        {
            if (position >= data.Length)
            {
                break;
            }

            int length = Math.Clamp(wanted, 1, data.Length - position);
            Append(data.Slice(position, length).ToArray());
            position += length;
        }

        if (position < data.Length)
        {
            Append(data[position..].ToArray());
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);

        void Append(byte[] bytes)
        {
            var segment = new Segment(bytes, last is null ? 0 : last.RunningIndex + last.Memory.Length);
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.SetNext(segment);
            }

            last = segment;
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
