using System.Runtime.InteropServices;

namespace AbilisFast.Server.Spool;

/// <summary>
/// The CPU's CRC-32C instruction for the Native AOT build, from src/AbilisFast/Native/crc32c.c,
/// which the executable's project compiles and links in (a direct call, no library to load). The
/// AOT build is optimised for size, and then its managed code may use no instruction set beyond the
/// architecture's baseline (<see cref="Crc32C"/>'s intrinsics are constant false); the C function
/// is compiled for the instruction and called only when the CPU reports it. A JIT run does not
/// call it (the JIT gives the intrinsics wherever the CPU has the instruction), and has no such
/// library: only the end-to-end test that compiles the C file loads it.
/// </summary>
internal static unsafe partial class Crc32CNative
{
    /// <summary>The module name the executable's project lists as a DirectPInvoke.</summary>
    public const string Library = "abilisfast_native";

    [LibraryImport(Library, EntryPoint = "abilisfast_crc32c_hw")]
    private static partial int HasInstructionNative();

    [LibraryImport(Library, EntryPoint = "abilisfast_crc32c_update")]
    private static partial uint UpdateNative(uint state, byte* data, nuint length);

    /// <summary>
    /// True when the CPU has the instruction and the function gives the check value of CRC-32C
    /// ("123456789" → 0xE3069283); false means tables.
    /// </summary>
    public static bool TryEnable() => HasInstructionNative() != 0 && ~Update(Crc32C.Initial, "123456789"u8) == 0xE306_9283;

    /// <summary>Continues a running (non-finalised) CRC state; only after <see cref="TryEnable"/> returned true.</summary>
    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            return UpdateNative(state, p, (nuint)data.Length);
        }
    }
}
