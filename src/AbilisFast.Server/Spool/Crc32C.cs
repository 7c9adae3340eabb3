using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace AbilisFast.Server.Spool;

/// <summary>
/// CRC-32C (Castagnoli) over spans, by the first of: the CPU's CRC32 instruction through .NET's
/// intrinsics (<see cref="BitOperations.Crc32C(uint, ulong)"/>, 8 bytes per step) where the compiler
/// lets managed code use it (a JIT run); the same instruction through a small C function
/// (<see cref="Crc32CNative"/>) in the Native AOT executable, whose size-optimised build allows
/// managed code no instruction set beyond the baseline; slicing-by-8 tables on a CPU without the
/// instruction (x86-64 before SSE4.2, arm64 without the CRC extension). The tables cost 37 % of
/// the server's CPU on 10 MB messages (docs/performance.md); one table lookup per byte, which is
/// what <see cref="BitOperations"/> falls back to, cost more than half.
/// </summary>
internal static class Crc32C
{
    public const uint Initial = 0xFFFF_FFFF;

    /// <summary>The reflected Castagnoli polynomial.</summary>
    private const uint Polynomial = 0x82F6_3B78;

    /// <summary>Eight 256-entry tables: [k * 256 + b] is the CRC of byte b followed by k zero bytes.</summary>
    private static readonly uint[] s_tables = BuildTables();

    /// <summary>Shorter spans go to the tables: a call into C costs about as much as 64 bytes of them.</summary>
    private const int NativeMinimum = 64;

    /// <summary>The AOT executable (where the C function is linked in) on a CPU with the instruction.</summary>
    private static readonly bool s_native = !HasInstruction && !RuntimeFeature.IsDynamicCodeSupported && Crc32CNative.TryEnable();

    private static bool HasInstruction => Sse42.X64.IsSupported || Crc32.Arm64.IsSupported;

    /// <summary>How this process computes CRC-32C, for <c>--version</c>.</summary>
    public static string Method =>
        HasInstruction ? "CPU instruction (.NET intrinsics)" : s_native ? "CPU instruction" : "tables (no CRC instruction)";

    /// <summary>Continues a running (non-finalised) CRC state with <paramref name="data"/>.</summary>
    public static uint Update(uint state, ReadOnlySpan<byte> data) =>
        HasInstruction ? UpdateWithInstruction(state, data)
        : s_native && data.Length >= NativeMinimum ? Crc32CNative.Update(state, data)
        : UpdateWithTables(state, data);

    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(Initial, data);

    private static uint UpdateWithInstruction(uint state, ReadOnlySpan<byte> data)
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

    /// <summary>The same result as the instruction, from tables (tests compare the two).</summary>
    internal static uint UpdateWithTables(uint state, ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<uint> t = s_tables;
        while (data.Length >= 8)
        {
            uint low = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ state;
            uint high = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            state = t[(7 * 256) + (int)(low & 0xFF)] ^ t[(6 * 256) + (int)((low >> 8) & 0xFF)]
                ^ t[(5 * 256) + (int)((low >> 16) & 0xFF)] ^ t[(4 * 256) + (int)(low >> 24)]
                ^ t[(3 * 256) + (int)(high & 0xFF)] ^ t[(2 * 256) + (int)((high >> 8) & 0xFF)]
                ^ t[256 + (int)((high >> 16) & 0xFF)] ^ t[(int)(high >> 24)];
            data = data[8..];
        }

        foreach (byte b in data)
        {
            state = t[(int)((state ^ b) & 0xFF)] ^ (state >> 8);
        }

        return state;
    }

    private static uint[] BuildTables()
    {
        var tables = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint crc = i;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Polynomial : crc >> 1;
            }

            tables[i] = crc;
        }

        for (int k = 1; k < 8; k++)
        {
            for (int i = 0; i < 256; i++)
            {
                uint previous = tables[((k - 1) * 256) + i];
                tables[(k * 256) + i] = (previous >> 8) ^ tables[(int)(previous & 0xFF)];
            }
        }

        return tables;
    }
}
