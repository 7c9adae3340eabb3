using System.Buffers.Binary;
using System.Numerics;

namespace AbilisFast.Server.Spool;

/// <summary>CRC-32C (Castagnoli) over spans, 8 bytes per step via <see cref="BitOperations.Crc32C(uint, ulong)"/>.</summary>
internal static class Crc32C
{
    public const uint Initial = 0xFFFF_FFFF;

    /// <summary>Continues a running (non-finalised) CRC state with <paramref name="data"/>.</summary>
    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        if (data.Length >= 4)
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt32LittleEndian(data));
            data = data[4..];
        }

        foreach (byte b in data)
        {
            state = BitOperations.Crc32C(state, b);
        }

        return state;
    }

    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(Initial, data);
}
