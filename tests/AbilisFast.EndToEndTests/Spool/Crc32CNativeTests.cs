using System.Runtime.InteropServices;
using AbilisFast.Server.Spool;

namespace AbilisFast.Server.Tests.Spool;

/// <summary>
/// The C function the AOT executable links in for CRC-32C (src/AbilisFast/Native/crc32c.c),
/// compiled here by the machine's C compiler into a shared library that stands in for the
/// executable's own symbols, and called through the same declarations (<see cref="Crc32CNative"/>):
/// it must agree with the tables on every length and alignment, and use the instruction exactly
/// when the CPU has it.
/// </summary>
public sealed class Crc32CNativeTests
{
    /// <summary>Compiles the C file into <paramref name="dir"/> and has the declarations find it there.</summary>
    private static async Task LoadAsync(TempDir dir)
    {
        string library = Path.Combine(dir.Path, "libabilisfast_native.so");
        string source = Path.Combine(ServerProcess.RepositoryRoot(), "src", "AbilisFast", "Native", "crc32c.c");
        string[] arch = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? ["-march=armv8-a+crc"] : [];
        (int exit, string output) = await Tool.RunAsync("cc", ["-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror", .. arch, source, "-o", library]);
        Assert.True(exit == 0, "cc crc32c.c: " + output);

        nint handle = NativeLibrary.Load(library);
        NativeLibrary.SetDllImportResolver(typeof(Crc32C).Assembly, (name, _, _) => name == Crc32CNative.Library ? handle : IntPtr.Zero);
    }

    private static bool CpuHasInstruction()
    {
        string cpu = File.ReadAllText("/proc/cpuinfo");
        return RuntimeInformation.ProcessArchitecture == Architecture.Arm64
            ? cpu.Split('\n').Any(l => l.StartsWith("Features", StringComparison.Ordinal) && l.Split(' ').Contains("crc32"))
            : cpu.Split('\n').Any(l => l.StartsWith("flags", StringComparison.Ordinal) && l.Split(' ').Contains("sse4_2"));
    }

    [Fact]
    public async Task IsUsedExactlyWhenTheCpuHasTheInstructionAndAgreesWithTheTables()
    {
        using var dir = new TempDir();
        await LoadAsync(dir);
        bool cpu = CpuHasInstruction();
        Assert.Equal(cpu, Crc32CNative.TryEnable());
        if (!cpu)
        {
            // The instruction would fault here; the server uses the tables (the check above).
            return;
        }

        Assert.Equal(0xE306_9283u, ~Crc32CNative.Update(Crc32C.Initial, "123456789"u8));
        var random = new Random(3464);
        byte[] data = new byte[(1 << 20) + 64];
        random.NextBytes(data);
        for (int offset = 0; offset < 8; offset++)
        {
            for (int length = 0; length <= 300; length++)
            {
                uint state = (uint)random.Next();
                ReadOnlySpan<byte> part = data.AsSpan(offset, length);
                Assert.Equal(Crc32C.UpdateWithTables(state, part), Crc32CNative.Update(state, part));
            }
        }

        Assert.Equal(Crc32C.UpdateWithTables(Crc32C.Initial, data.AsSpan(3)), Crc32CNative.Update(Crc32C.Initial, data.AsSpan(3)));
    }
}
