using System.Buffers.Binary;

namespace AbilisFast.Server.Spool;

/// <summary>
/// On-disk record: 24-byte header + payload, padded to 8 bytes.
/// Header: magic u32 | type u8 | flags u8 | reserved u16 | payload length u32 | message id u32 | sequence u32 | CRC32C u32.
/// The CRC covers the header (CRC field zero) and the payload, starting from a per-spool salted state
/// so that record images embedded in message bodies never validate.
/// </summary>
internal static class SpoolRecord
{
    public const uint Magic = 0x31534641; // "AFS1"
    public const int HeaderSize = 24;

    /// <summary>Commit payload prefix: body length (u64) + commit time in Unix ms (i64).</summary>
    public const int CommitPrefixSize = 16;

    public static int Align(long n) => checked((int)((n + 7) & ~7L));

    public static int SizeOf(int payloadLength) => Align((long)HeaderSize + payloadLength);

    /// <summary>CRC state after feeding the spool salt; used as the starting state of every record CRC.</summary>
    public static uint SeedFor(ulong salt)
    {
        Span<byte> s = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(s, salt);
        return Crc32C.Update(Crc32C.Initial, s);
    }

    /// <summary>
    /// Fills the header of a record whose payload is already in place at <c>record[HeaderSize..]</c>,
    /// zeroes the padding and computes the CRC. <paramref name="record"/> must be exactly <see cref="SizeOf"/> long.
    /// </summary>
    public static void Seal(Span<byte> record, SpoolRecordType type, uint id, uint seq, int payloadLength, uint seed)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(record, Magic);
        record[4] = (byte)type;
        record[5] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(record[6..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(record[12..], id);
        BinaryPrimitives.WriteUInt32LittleEndian(record[16..], seq);
        BinaryPrimitives.WriteUInt32LittleEndian(record[20..], 0);
        record[(HeaderSize + payloadLength)..].Clear();
        uint crc = ~Crc32C.Update(seed, record[..(HeaderSize + payloadLength)]);
        BinaryPrimitives.WriteUInt32LittleEndian(record[20..], crc);
    }

    /// <summary>Validates the record at <paramref name="pos"/> (magic, type, length bounds, CRC). Never throws.</summary>
    public static bool TryRead(ReadOnlySpan<byte> buf, int pos, uint seed, out SpoolRecordView view)
    {
        view = default;
        if (pos < 0 || pos > buf.Length - HeaderSize)
        {
            return false;
        }

        ReadOnlySpan<byte> h = buf.Slice(pos, HeaderSize);
        if (BinaryPrimitives.ReadUInt32LittleEndian(h) != Magic)
        {
            return false;
        }

        var type = (SpoolRecordType)h[4];
        if (type is < SpoolRecordType.Data or > SpoolRecordType.SegmentHeader)
        {
            return false;
        }

        uint length = BinaryPrimitives.ReadUInt32LittleEndian(h[8..]);
        if (length > (uint)(buf.Length - pos - HeaderSize))
        {
            return false;
        }

        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(h[20..]);
        uint state = Crc32C.Update(seed, h[..20]);
        state = Crc32C.Update(state, [0, 0, 0, 0]);
        state = Crc32C.Update(state, buf.Slice(pos + HeaderSize, (int)length));
        if (~state != stored)
        {
            return false;
        }

        view = new SpoolRecordView(
            type,
            BinaryPrimitives.ReadUInt32LittleEndian(h[12..]),
            BinaryPrimitives.ReadUInt32LittleEndian(h[16..]),
            pos,
            (int)length);
        return true;
    }
}

/// <summary>A validated record inside a scan buffer.</summary>
internal readonly record struct SpoolRecordView(SpoolRecordType Type, uint Id, uint Seq, int Offset, int PayloadLength)
{
    public int PayloadOffset => Offset + SpoolRecord.HeaderSize;

    public int TotalSize => SpoolRecord.SizeOf(PayloadLength);
}
