namespace AbilisFast.Server.Diagnostics;

// Incremental reading for the log file writer (SessionLogFile): the writer keeps a cursor (an
// absolute position) and copies the published records from there on, in order. Writers pay
// nothing for it: the file is fed from the ring itself, never from a second copy on the hot path.
internal sealed partial class SessionLog
{
    /// <summary>The position the next record will be claimed at: where a new follower starts.</summary>
    public long Head => Volatile.Read(ref _head.Value);

    /// <summary>
    /// Copies the lines published since <paramref name="cursor"/> into <paramref name="destination"/>,
    /// each ending in LF, oldest first, and advances the cursor past them. Stops at a record still
    /// being written (it comes next time) or when <paramref name="destination"/> is full.
    /// <paramref name="lost"/> is set when writers overwrote lines before they were read (the
    /// follower fell a whole ring behind): the copy then resumes at the oldest line still there.
    /// Returns the number of bytes copied.
    /// </summary>
    public int CopySince(ref long cursor, Span<byte> destination, out bool lost)
    {
        lost = false;
        for (int attempt = 0; attempt < MaxSnapshotAttempts; attempt++)
        {
            long tail = Volatile.Read(ref _tail.Value);
            long head = Volatile.Read(ref _head.Value);
            long start = cursor;
            if (start < tail)
            {
                lost = true;
                start = tail;
            }

            int length = CopyLines(start, head, destination, out long position);

            // As in TryTakeSnapshot: a record overwritten while it was copied implies a tail move
            // that this read is guaranteed to see.
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _tail.Value) <= start)
            {
                cursor = position;
                return length;
            }

            // Lapped while copying: what was copied may be torn; start again from the new tail.
            cursor = start;
        }

        cursor = Volatile.Read(ref _head.Value);
        lost = true;
        return 0;
    }

    /// <summary>
    /// Copies the lines written from <paramref name="start"/> up to <paramref name="head"/>, each with
    /// an LF, until one is not written yet, looks torn, or would not fit; the octets copied, and in
    /// <paramref name="position"/> where the next read goes on. The caller checks for a lapping writer.
    /// </summary>
    private int CopyLines(long start, long head, Span<byte> destination, out long position)
    {
        position = start;
        int length = 0;
        ReadOnlySpan<byte> bytes = Bytes;
        while (position < head)
        {
            int offset = OffsetOf(position);
            long header = Volatile.Read(ref HeaderAt(offset)); // acquire: pairs with the writer's publish
            if (header == SkipHeader(position))
            {
                position += BufferLength - offset;
                continue;
            }

            if (header != LineHeader(position))
            {
                break; // reserved or claimed but not written yet: keep order, read it next time
            }

            int lineLength = LengthAt(offset);
            if (lineLength > MaxLineLength || offset + RecordOverhead + lineLength > BufferLength)
            {
                break; // torn by a lapping writer; the caller's tail check throws the copy away
            }

            if (length + lineLength + 1 > destination.Length)
            {
                break;
            }

            bytes.Slice(offset + RecordOverhead, lineLength).CopyTo(destination[length..]);
            length += lineLength;
            destination[length++] = (byte)'\n';
            position += RecordSize(lineLength);
        }

        return length;
    }
}
