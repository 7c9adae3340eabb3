namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// The tag that follows the timestamp in a session log line: <c>[  N]</c> for a session channel
/// (right-aligned in three columns, wider numbers widen the tag), <c>[IN] </c> for the inbound
/// queue and <c>[PORT]</c> for the listening port. The formatted tag always includes the single
/// separator space, so "[IN]" is followed by two spaces as on the appliance.
/// </summary>
internal readonly struct LogTag : IEquatable<LogTag>
{
    private const int InValue = -1;
    private const int PortValue = -2;

    /// <summary>Longest formatted tag: "[" + 10 digits + "] ".</summary>
    internal const int MaxFormattedLength = 13;

    private readonly int _value;

    private LogTag(int value) => _value = value;

    public static LogTag In => new(InValue);

    public static LogTag Port => new(PortValue);

    public static LogTag Channel(int number)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(number);
        return new LogTag(number);
    }

    public bool IsChannel => _value >= 0;

    public bool IsIn => _value == InValue;

    public bool IsPort => _value == PortValue;

    /// <summary>The channel number, or -1 when this is not a channel tag.</summary>
    public int ChannelNumber => _value >= 0 ? _value : -1;

    /// <summary>Writes the tag and its trailing separator; returns the number of bytes written.</summary>
    internal int FormatTo(Span<byte> destination)
    {
        switch (_value)
        {
            case InValue:
                "[IN]  "u8.CopyTo(destination);
                return 6;
            case PortValue:
                "[PORT] "u8.CopyTo(destination);
                return 7;
        }

        int digits = CountDigits(_value);
        int pad = Math.Max(0, 3 - digits);
        destination[0] = (byte)'[';
        destination.Slice(1, pad).Fill((byte)' ');
        int at = 1 + pad;
        for (int i = digits - 1, v = _value; i >= 0; i--, v /= 10)
        {
            destination[at + i] = (byte)('0' + (v % 10));
        }

        at += digits;
        destination[at] = (byte)']';
        destination[at + 1] = (byte)' ';
        return at + 2;
    }

    public bool Equals(LogTag other) => _value == other._value;

    public override bool Equals(object? obj) => obj is LogTag other && Equals(other);

    public override int GetHashCode() => _value;

    public static bool operator ==(LogTag left, LogTag right) => left.Equals(right);

    public static bool operator !=(LogTag left, LogTag right) => !left.Equals(right);

    public override string ToString()
    {
        Span<byte> buffer = stackalloc byte[MaxFormattedLength];
        int length = FormatTo(buffer);
        return System.Text.Encoding.ASCII.GetString(buffer[..(length - 1)]);
    }

    private static int CountDigits(int value)
    {
        int digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }

        return digits;
    }
}
