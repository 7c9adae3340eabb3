namespace AbilisFast.Protocol.Addressing;

/// <summary>
/// Result of <see cref="PathParser.TryParse"/>: offsets into the parsed argument, no copies.
/// The local part range is the local part as written (a quoted local part includes its quotes).
/// The domain range is the final domain (a source route is skipped); an address literal includes its brackets.
/// </summary>
internal readonly struct ParsedPath
{
    public int LocalStart { get; init; }

    public int LocalLength { get; init; }

    public int DomainStart { get; init; }

    public int DomainLength { get; init; }

    /// <summary>Start of the ESMTP parameters (after '&gt;' and the spaces that follow it).</summary>
    public int ParametersStart { get; init; }

    public int ParametersLength { get; init; }

    public PathFlags Flags { get; init; }

    public bool IsNullPath => (Flags & PathFlags.NullPath) != 0;

    /// <summary>&lt;postmaster&gt; without a domain (forward path only).</summary>
    public bool IsPostmaster => (Flags & PathFlags.Postmaster) != 0;

    public bool HasNonAscii => (Flags & PathFlags.HasNonAscii) != 0;

    public bool IsQuotedLocalPart => (Flags & PathFlags.QuotedLocalPart) != 0;

    public bool IsAddressLiteral => (Flags & PathFlags.AddressLiteral) != 0;

    public bool HadSourceRoute => (Flags & PathFlags.SourceRoute) != 0;

    public ReadOnlySpan<byte> LocalPart(ReadOnlySpan<byte> arg) => arg.Slice(LocalStart, LocalLength);

    public ReadOnlySpan<byte> Domain(ReadOnlySpan<byte> arg) => arg.Slice(DomainStart, DomainLength);

    public ReadOnlySpan<byte> Parameters(ReadOnlySpan<byte> arg) => arg.Slice(ParametersStart, ParametersLength);

    /// <summary>"local@domain" (or "postmaster", or empty for the null path).</summary>
    public ReadOnlySpan<byte> Mailbox(ReadOnlySpan<byte> arg) =>
        DomainLength == 0 ? LocalPart(arg) : arg.Slice(LocalStart, DomainStart + DomainLength - LocalStart);
}
