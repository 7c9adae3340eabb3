using System.Buffers;
using System.Text;

namespace AbilisFast.Server.Diagnostics;

internal sealed partial class SessionLog
{
    private const int MaxRecords = BufferLength / 16; // smallest record or skip marker: 16 / 8 bytes
    private const int MaxSnapshotAttempts = 16;

    // The first ~10 SpinWait rounds spin; later ones yield the processor, which helps a writer
    // preempted right after its claim to run again.
    private const int SettleSpins = 24;

    // Lines plus CRLF never exceed the bytes their records occupy, except that a walk following a
    // torn length may overshoot by one record before the tail check throws it away.
    private const int SnapshotCapacity = BufferLength + MaxLineLength + 2;

    /// <summary>Records starting before this position are hidden (console <c>lsn:3 cmd:clr</c>).</summary>
    private long _clearPosition;

    /// <summary>
    /// Hides every line written before this call. Writers are not stopped: the current head is
    /// recorded and readers skip records that start before it.
    /// </summary>
    public void Clear()
    {
        long head = Volatile.Read(ref _head.Value);
        long current = Volatile.Read(ref _clearPosition);
        while (current < head)
        {
            long seen = Interlocked.CompareExchange(ref _clearPosition, head, current);
            if (seen == current)
            {
                break;
            }

            current = seen;
        }
    }

    /// <summary>Writes the current log, oldest line first, each line ending in CRLF. Returns the byte count.</summary>
    public int CopyTo(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        byte[] text = ArrayPool<byte>.Shared.Rent(SnapshotCapacity);
        try
        {
            ReadOnlySpan<byte> lines = TakeSnapshot(text);
            output.Write(lines);
            return lines.Length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(text);
        }
    }

    /// <summary>The current log as text, lines ending in CRLF.</summary>
    public string SnapshotText()
    {
        byte[] text = ArrayPool<byte>.Shared.Rent(SnapshotCapacity);
        try
        {
            return Encoding.UTF8.GetString(TakeSnapshot(text));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(text);
        }
    }

    /// <summary>The current log as lines (without CRLF), oldest first.</summary>
    public IReadOnlyList<string> ReadLines()
    {
        string text = SnapshotText();
        var lines = new List<string>();
        int at = 0;
        while (at < text.Length)
        {
            int end = text.IndexOf("\r\n", at, StringComparison.Ordinal);
            lines.Add(text[at..end]);
            at = end + 2;
        }

        return lines;
    }

    /// <summary>
    /// Copies the published records into <paramref name="text"/> as CRLF-terminated lines and returns
    /// the part that is known intact. Retries a bounded number of times when writers lapped the walk.
    /// </summary>
    private ReadOnlySpan<byte> TakeSnapshot(byte[] text)
    {
        long[] positions = ArrayPool<long>.Shared.Rent(MaxRecords + 1);
        int[] textOffsets = ArrayPool<int>.Shared.Rent(MaxRecords + 1);
        try
        {
            ReadOnlySpan<byte> result = default;
            for (int attempt = 0; attempt < MaxSnapshotAttempts; attempt++)
            {
                if (TryTakeSnapshot(text, positions, textOffsets, out result))
                {
                    break;
                }
            }

            return result;
        }
        finally
        {
            ArrayPool<long>.Shared.Return(positions);
            ArrayPool<int>.Shared.Return(textOffsets);
        }
    }

    private bool TryTakeSnapshot(byte[] text, long[] positions, int[] textOffsets, out ReadOnlySpan<byte> result)
    {
        long tail = Volatile.Read(ref _tail.Value);
        long head = Volatile.Read(ref _head.Value);
        long clear = Volatile.Read(ref _clearPosition);
        int count = Walk(tail, head, text, positions, textOffsets, out long position, out int length);
        positions[count] = position;
        textOffsets[count] = length;

        // Acquire fence after the copies: if any byte copied above was stored by a writer that
        // overwrote a record, that writer's claim followed a tail move we are now guaranteed to see.
        Interlocked.MemoryBarrier();
        long tailAfter = Volatile.Read(ref _tail.Value);

        if (tailAfter > position)
        {
            // Writers lapped the whole walk while we copied: nothing copied can be trusted.
            result = default;
            return false;
        }

        if (tailAfter > tail && positions.AsSpan(0, count + 1).BinarySearch(tailAfter) < 0)
        {
            // _tail only stops on record boundaries, so missing it means the walk followed a
            // length torn by a lapping writer (and may have jumped over intact records).
            result = default;
            return false;
        }

        // The intact records are those starting at or after tailAfter (and the clear point).
        int first = LowerBound(positions.AsSpan(0, count + 1), Math.Max(tailAfter, clear));
        int from = first > count ? length : textOffsets[first];
        result = text.AsSpan(from, length - from);
        return true;
    }

    /// <summary>
    /// Walks the chain [<paramref name="tail"/>, <paramref name="head"/>), copying each published line
    /// (with CRLF) into <paramref name="text"/> and remembering where each record (and skip marker)
    /// started; stops at a record not yet reserved, overwritten or torn. Returns the records walked.
    /// </summary>
    private int Walk(long tail, long head, byte[] text, long[] positions, int[] textOffsets, out long position, out int length)
    {
        ReadOnlySpan<byte> bytes = Bytes;
        int count = 0;
        length = 0;
        position = tail;
        while (position < head && count < MaxRecords)
        {
            int offset = OffsetOf(position);
            long header = Volatile.Read(ref HeaderAt(offset)); // acquire: pairs with the writer's publish
            if (header != LineHeader(position) && header != SkipHeader(position))
            {
                header = Settle(offset, position);
            }

            positions[count] = position;
            textOffsets[count] = length;
            if (header == SkipHeader(position))
            {
                count++;
                position += BufferLength - offset;
                continue;
            }

            bool reserved = header == ReservedHeader(position);
            if (!reserved && header != LineHeader(position))
            {
                break; // claimed but not even reserved yet, or already overwritten: stop to keep order
            }

            int lineLength = LengthAt(offset);
            if (lineLength > MaxLineLength || offset + RecordOverhead + lineLength > BufferLength)
            {
                break; // torn by a lapping writer; the tail check below discards it
            }

            if (reserved)
            {
                // Still being copied by its writer (perhaps preempted): leave it out, keep walking.
                count++;
                position += RecordSize(lineLength);
                continue;
            }

            bytes.Slice(offset + RecordOverhead, lineLength).CopyTo(text.AsSpan(length));
            length += lineLength;
            text[length++] = (byte)'\r';
            text[length++] = (byte)'\n';
            count++;
            position += RecordSize(lineLength);
        }

        return count;
    }

    private static int LowerBound(ReadOnlySpan<long> sorted, long value)
    {
        int index = sorted.BinarySearch(value);
        return index >= 0 ? index : ~index;
    }

    /// <summary>
    /// Gives the writer of <paramref name="position"/> a moment to publish
    /// its record or skip marker, and returns the header seen last.
    /// </summary>
    private long Settle(int offset, long position)
    {
        var spin = default(SpinWait);
        long header = Volatile.Read(ref HeaderAt(offset));
        for (int i = 0; i < SettleSpins && header != LineHeader(position) && header != SkipHeader(position); i++)
        {
            if (Volatile.Read(ref _tail.Value) > position)
            {
                break; // overwritten, not in progress
            }

            spin.SpinOnce(sleep1Threshold: -1);
            header = Volatile.Read(ref HeaderAt(offset));
        }

        return header;
    }
}
