using System.Buffers.Binary;
using AbilisFast.Server.Spool;

namespace AbilisFast.Fuzz;

/// <summary>
/// Turns a fuzz input into a segment of correctly sealed spool records, so that the fuzzer drives
/// the recovery's per-message state machine (fragment order, commits, aborts, done, retry) rather
/// than the CRC check. Each step of the program is an op byte, a length byte and, for Data and
/// Retry, that many payload bytes:
/// <list type="bullet">
/// <item>op bits 0-2: 0, 1, 6 Data; 2 Commit; 3 Abort; 4 Done; 5 Retry; 7 eight bytes of garbage (resynchronisation);</item>
/// <item>bits 3-4: message id 1 to 4;</item>
/// <item>bits 5-6: sequence number: the next one, 0, one too far, or the previous one again;</item>
/// <item>bit 7 on a Commit: a body length one too large.</item>
/// </list>
/// A Commit's envelope is the <see cref="SpoolHarness.CheckEnvelope"/> of what was written for that
/// message: the Data payloads from its latest sequence 0 on, when they came in order. Recovery may
/// drop a message; it must never return one whose body differs from that.
/// </summary>
internal static class RecordStream
{
    private const int MaxSegment = 60 * 1024;

    public static byte[] Build(ReadOnlySpan<byte> program, ulong salt)
    {
        uint seed = SpoolRecord.SeedFor(salt);
        var output = new MemoryStream();
        output.Write(SegmentHeader(salt, 1));
        var written = new Dictionary<uint, List<byte[]>>();
        var next = new Dictionary<uint, uint>();
        var broken = new HashSet<uint>();
        int pos = 0;
        while (pos < program.Length && output.Length < MaxSegment)
        {
            byte op = program[pos++];
            int length = pos < program.Length ? program[pos++] : 0;
            int kind = op & 7;
            uint id = 1 + (uint)((op >> 3) & 3);
            uint expected = next.GetValueOrDefault(id);
            uint seq = ((op >> 5) & 3) switch
            {
                0 => expected,
                1 => 0,
                2 => expected + 1,
                _ => expected == 0 ? 0 : expected - 1,
            };

            switch (kind)
            {
                case 0 or 1 or 6:
                    {
                        ReadOnlySpan<byte> payload = program.Slice(pos, Math.Min(length, program.Length - pos));
                        pos += payload.Length;
                        List<byte[]> fragments = written.TryGetValue(id, out List<byte[]>? list) ? list : written[id] = [];
                        if (seq == 0)
                        {
                            fragments.Clear();
                            broken.Remove(id);
                        }

                        if (seq != fragments.Count)
                        {
                            broken.Add(id);
                        }

                        fragments.Add(payload.ToArray());
                        next[id] = seq + 1;
                        Append(output, SpoolRecordType.Data, id, seq, payload, seed);
                        break;
                    }

                case 2:
                    {
                        byte[] body = written.TryGetValue(id, out List<byte[]>? fragments) ? [.. fragments.SelectMany(static f => f)] : [];
                        byte[] envelope = broken.Contains(id) ? "BROKEN\n"u8.ToArray() : SpoolHarness.CheckEnvelope(body);
                        byte[] payload = new byte[SpoolRecord.CommitPrefixSize + envelope.Length];
                        BinaryPrimitives.WriteInt64LittleEndian(payload, body.Length + ((op & 0x80) != 0 ? 1 : 0));
                        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(8), 1_795_000_000_000);
                        envelope.CopyTo(payload, SpoolRecord.CommitPrefixSize);
                        uint commitSeq = ((op >> 5) & 3) == 0 ? (uint)(fragments?.Count ?? 0) : seq;
                        Append(output, SpoolRecordType.Commit, id, commitSeq, payload, seed);
                        break;
                    }

                case 3:
                    Append(output, SpoolRecordType.Abort, id, 0, [], seed);
                    break;

                case 4:
                    Append(output, SpoolRecordType.Done, id, 0, [], seed);
                    break;

                case 5:
                    {
                        ReadOnlySpan<byte> payload = program.Slice(pos, Math.Min(length, program.Length - pos));
                        pos += payload.Length;
                        Append(output, SpoolRecordType.Retry, id, 0, payload, seed);
                        break;
                    }

                default:
                    output.Write([0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, (byte)length]);
                    break;
            }
        }

        return output.ToArray();
    }

    /// <summary>The two copies of a segment header, as the spool writes them when it creates segment <paramref name="number"/>.</summary>
    public static byte[] SegmentHeader(ulong salt, int number)
    {
        byte[] header = new byte[SpoolStore.SegmentHeaderSize];
        Span<byte> first = header.AsSpan(0, SpoolStore.SegmentHeaderRecordSize);
        BinaryPrimitives.WriteUInt64LittleEndian(first[SpoolRecord.HeaderSize..], salt);
        BinaryPrimitives.WriteInt64LittleEndian(first[(SpoolRecord.HeaderSize + 8)..], 1_795_000_000_000);
        SpoolRecord.Seal(first, SpoolRecordType.SegmentHeader, (uint)number, 1, 16, Crc32C.Initial);
        first.CopyTo(header.AsSpan(SpoolStore.SegmentHeaderRecordSize));
        return header;
    }

    private static void Append(MemoryStream output, SpoolRecordType type, uint id, uint seq, ReadOnlySpan<byte> payload, uint seed)
    {
        byte[] record = new byte[SpoolRecord.SizeOf(payload.Length)];
        payload.CopyTo(record.AsSpan(SpoolRecord.HeaderSize));
        SpoolRecord.Seal(record, type, id, seq, payload.Length, seed);
        output.Write(record);
    }
}
