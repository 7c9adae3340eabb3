using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace AbilisFast.Server.Diagnostics;

// Lock-free ring, modelled on a bounded multi-producer buffer.
//
// Positions are absolute, monotonically increasing 64-bit byte offsets; the array offset of a
// position is position % BufferLength. Everything is 8-byte aligned (BufferLength = 8 * 8064).
//
// Record at position p, offset o:   [header: 8][length: 2][line: length][padding to 8]
// Skip marker at position p:        [header: 8] and the rest of the array up to its end is unused.
// header = Marker | p | kind, kind 1 = line, 2 = skip, 4 = reserved (line being copied).
// The header names its own absolute position, so a header left over from an earlier lap, or an
// unrelated 8-byte word, can never be mistaken for it: the top byte is 0xFF, which sanitised UTF-8 text never contains (the ring assumes a
// little-endian machine, which is every .NET 10 target).
//
// _head: next position to claim. _tail: the oldest record that may not yet be overwritten.
// Invariant: head - tail <= BufferLength, and everything in [tail, head) is a contiguous chain
// of records and skip markers.
//
// Writer:
//   1. claim [start, end) with a CAS on _head, inserting a skip marker first when the record
//      would cross the end of the array (records never wrap). The claim is only attempted when
//      end - tail <= BufferLength, i.e. the bytes being claimed belong to reclaimed records.
//      If not, the writer reclaims the record at _tail: it may do so only once that record's
//      header is published (so a slow writer is never overwritten mid-copy); otherwise it spins.
//      This is the one place a writer can wait: a writer preempted while copying its line holds
//      back only writers that have lapped the whole 64512-byte ring since.
//   2. write the length, then the header "reserved" (release), then the line bytes (plain);
//   3. publish with Volatile.Write of the header "line" (release: the stores of step 2 are
//      visible to whoever acquires the header). A reservation lets readers step over a record
//      whose writer was preempted while copying; reclaiming waits for the publication.
//
// Reader (SessionLog.Reader.cs): reads _tail and _head, walks the chain from tail, acquiring each
// header (Volatile.Read) and copying the line only when the header names that position (stepping
// over reserved records, stopping at a claim whose header is not written yet); then a
// full fence and a second read of _tail. Bytes of record p can only be overwritten by a writer
// that claimed after _tail moved past p (the writer read the new tail, then did a full-fence CAS
// on _head, then stored). If the copy saw any such store, the fence pairing (writer's CAS before
// its stores; reader's fence after its loads) guarantees the second read sees the moved tail,
// so every record starting before the second tail is discarded and all others were copied intact.
internal sealed partial class SessionLog
{
    private const int HeaderSize = 8;
    private const int RecordOverhead = HeaderSize + sizeof(ushort);
    private const long HeaderMarker = unchecked((long)0xFF00_0000_0000_0000UL);
    private const long KindLine = 1;
    private const long KindSkip = 2;
    private const long KindReserved = 4;

    // A long[] guarantees 8-byte alignment, so headers can be read and written atomically.
    private readonly long[] _words = new long[BufferLength / sizeof(long)];

    private PaddedInt64 _head;
    private PaddedInt64 _tail;

    private Span<byte> Bytes => MemoryMarshal.AsBytes(_words.AsSpan());

    private static long LineHeader(long position) => HeaderMarker | position | KindLine;

    private static long SkipHeader(long position) => HeaderMarker | position | KindSkip;

    private static long ReservedHeader(long position) => HeaderMarker | position | KindReserved;

    private static int RecordSize(int lineLength) => (RecordOverhead + lineLength + 7) & ~7;

    private static int OffsetOf(long position) => (int)(position % BufferLength);

    private ref long HeaderAt(int offset) => ref _words[offset >> 3];

    private int LengthAt(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes.Slice(offset + HeaderSize, 2));

    private void Append(ReadOnlySpan<byte> line)
    {
        int size = RecordSize(line.Length);
        long start = Claim(size);
        int offset = OffsetOf(start);
        Span<byte> record = Bytes.Slice(offset, size);
        BinaryPrimitives.WriteUInt16LittleEndian(record.Slice(HeaderSize, 2), (ushort)line.Length);

        // Release: the length is visible to anyone who sees the reservation, so readers can step
        // over this record while its line is being copied.
        Volatile.Write(ref HeaderAt(offset), ReservedHeader(start));
        line.CopyTo(record[RecordOverhead..]);
        record[(RecordOverhead + line.Length)..].Clear();

        // Release: the line stores above become visible no later than the header.
        Volatile.Write(ref HeaderAt(offset), LineHeader(start));
    }

    /// <summary>Claims <paramref name="size"/> bytes that do not cross the end of the array.</summary>
    private long Claim(int size)
    {
        var spin = default(SpinWait);
        while (true)
        {
            long head = Volatile.Read(ref _head.Value);
            int offset = OffsetOf(head);
            int skip = offset + size > BufferLength ? BufferLength - offset : 0;
            long end = head + skip + size;

            // _tail only grows, so a stale value is merely conservative.
            long tail = Volatile.Read(ref _tail.Value);
            if (end - tail > BufferLength)
            {
                if (!TryReclaim(tail))
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                }

                continue;
            }

            // Full fence: orders the tail read above before this writer's stores into the claimed bytes.
            if (Interlocked.CompareExchange(ref _head.Value, end, head) == head)
            {
                if (skip != 0)
                {
                    Volatile.Write(ref HeaderAt(offset), SkipHeader(head));
                }

                return head + skip;
            }
        }
    }

    /// <summary>
    /// Moves _tail past the record at <paramref name="tail"/> once that record is published.
    /// Returns false when it is still being written. Losing the CAS is fine: someone else advanced.
    /// </summary>
    private bool TryReclaim(long tail)
    {
        int offset = OffsetOf(tail);
        long header = Volatile.Read(ref HeaderAt(offset));
        long next;
        if (header == LineHeader(tail))
        {
            // The length is stable: nobody overwrites it before _tail moves past this record, and if
            // someone else already moved it, the CAS below fails whatever we computed.
            next = tail + RecordSize(LengthAt(offset));
        }
        else if (header == SkipHeader(tail))
        {
            next = tail + (BufferLength - offset);
        }
        else
        {
            return false;
        }

        Interlocked.CompareExchange(ref _tail.Value, next, tail);
        return true;
    }
}
