namespace AbilisFast.Protocol.Addressing;

[Flags]
internal enum PathFlags : byte
{
    None = 0,
    NullPath = 1 << 0,
    Postmaster = 1 << 1,
    HasNonAscii = 1 << 2,
    QuotedLocalPart = 1 << 3,
    AddressLiteral = 1 << 4,
    SourceRoute = 1 << 5,
}
