using System.Text;

namespace AbilisFast.Protocol.Esmtp;

/// <summary>One esmtp-param: keyword [ "=" value ]. Spans point into the parsed argument.</summary>
internal readonly ref struct EsmtpParameter
{
    public EsmtpParameter(ReadOnlySpan<byte> keyword, ReadOnlySpan<byte> value, bool hasValue)
    {
        Keyword = keyword;
        Value = value;
        HasValue = hasValue;
    }

    public ReadOnlySpan<byte> Keyword { get; }

    public ReadOnlySpan<byte> Value { get; }

    public bool HasValue { get; }

    /// <summary>Case-insensitive keyword comparison, e.g. <c>p.Is("SIZE"u8)</c>.</summary>
    public bool Is(ReadOnlySpan<byte> keyword) => Ascii.EqualsIgnoreCase(Keyword, keyword);

    /// <summary>Case-insensitive value comparison, e.g. <c>p.ValueIs("8BITMIME"u8)</c>.</summary>
    public bool ValueIs(ReadOnlySpan<byte> value) => Ascii.EqualsIgnoreCase(Value, value);
}
