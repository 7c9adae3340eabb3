using System.Runtime.InteropServices;

namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// A 64-bit value alone on its cache line: 64 bytes of padding on either side, so two of these
/// used as fields never share a line with each other or with neighbouring fields (no false sharing).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 136)]
internal struct PaddedInt64
{
    [FieldOffset(64)]
    public long Value;
}
