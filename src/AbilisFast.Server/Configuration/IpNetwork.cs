using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace AbilisFast.Server.Configuration;

/// <summary>
/// An IP network (address and prefix length). IPv4 networks are kept as IPv4-mapped IPv6
/// networks (::ffff:a.b.c.d/(96+n)), so one 128-bit comparison serves IPv4 clients, IPv6 clients
/// and IPv4 clients seen through a dual-stack socket (::ffff:a.b.c.d) alike. A consequence: an
/// IPv6 network that covers ::ffff:0:0/96 (for example ::/0) also covers every IPv4 address.
/// </summary>
internal readonly struct IpNetwork : IEquatable<IpNetwork>
{
    private const ulong MappedPrefixLow = 0x0000_FFFF_0000_0000UL;

    private readonly ulong _high;
    private readonly ulong _low;
    private readonly byte _prefix128;
    private readonly bool _isIPv4;
    private readonly bool _isSet; // default(IpNetwork) contains nothing, rather than being ::/0

    private IpNetwork(ulong high, ulong low, int prefix128, bool isIPv4)
    {
        (ulong maskHigh, ulong maskLow) = Mask(prefix128);
        _high = high & maskHigh;
        _low = low & maskLow;
        _prefix128 = (byte)prefix128;
        _isIPv4 = isIPv4;
        _isSet = true;
    }

    public bool IsIPv4 => _isIPv4;

    /// <summary>Prefix length in the network's own family (0..32 for IPv4, 0..128 for IPv6).</summary>
    public int PrefixLength => _isIPv4 ? _prefix128 - 96 : _prefix128;

    public static IpNetwork FromIPv4(uint address, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        return new IpNetwork(0, MappedPrefixLow | address, 96 + prefixLength, isIPv4: true);
    }

    public static IpNetwork FromAddress(IPAddress address, int? prefixLength = null)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written))
        {
            throw new ArgumentException("unsupported address", nameof(address));
        }

        if (written == 4)
        {
            return FromIPv4(BinaryPrimitives.ReadUInt32BigEndian(bytes), prefixLength ?? 32);
        }

        int prefix = prefixLength ?? 128;
        ArgumentOutOfRangeException.ThrowIfNegative(prefix);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefix, 128);
        return new IpNetwork(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            prefix,
            isIPv4: false);
    }

    /// <summary>True when <paramref name="address"/> lies in this network. Does not allocate.</summary>
    public bool Contains(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!_isSet || !address.TryWriteBytes(bytes, out int written))
        {
            return false;
        }

        ulong high;
        ulong low;
        if (written == 4)
        {
            high = 0;
            low = MappedPrefixLow | BinaryPrimitives.ReadUInt32BigEndian(bytes);
        }
        else
        {
            high = BinaryPrimitives.ReadUInt64BigEndian(bytes);
            low = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        }

        (ulong maskHigh, ulong maskLow) = Mask(_prefix128);
        return (high & maskHigh) == _high && (low & maskLow) == _low;
    }

    /// <summary>
    /// Parses <c>a.b.c.d/n</c>, the short forms <c>127/8</c>, <c>172.16/12</c>, a plain IPv4
    /// address (/32), <c>IPv6/n</c> or a plain IPv6 address (/128). Host bits are cleared.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out IpNetwork network)
    {
        network = default;
        text = text.Trim();
        int slash = text.IndexOf('/');
        ReadOnlySpan<char> addressPart = slash < 0 ? text : text[..slash];
        int? prefix = null;
        if (slash >= 0)
        {
            ReadOnlySpan<char> prefixPart = text[(slash + 1)..];
            if (!TryParseSmallDecimal(prefixPart, 128, out int p))
            {
                return false;
            }

            prefix = p;
        }

        if (addressPart.Contains(':'))
        {
            if (addressPart.Contains('%') || !IPAddress.TryParse(addressPart, out IPAddress? v6)
                || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            network = FromAddress(v6, prefix ?? 128);
            return true;
        }

        if (!TryParseIPv4(addressPart, allowShort: prefix is not null, out uint v4) || prefix > 32)
        {
            return false;
        }

        network = FromIPv4(v4, prefix ?? 32);
        return true;
    }

    public static IpNetwork Parse(string text) =>
        TryParse(text, out IpNetwork network) ? network : throw new FormatException($"not an IP network: {text}");

    public bool Equals(IpNetwork other) =>
        _high == other._high && _low == other._low && _prefix128 == other._prefix128 && _isIPv4 == other._isIPv4 && _isSet == other._isSet;

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is IpNetwork other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low, _prefix128);

    public static bool operator ==(IpNetwork left, IpNetwork right) => left.Equals(right);

    public static bool operator !=(IpNetwork left, IpNetwork right) => !left.Equals(right);

    public override string ToString()
    {
        if (_isIPv4)
        {
            var v4 = (uint)_low;
            return $"{v4 >> 24}.{(v4 >> 16) & 0xFF}.{(v4 >> 8) & 0xFF}.{v4 & 0xFF}/{PrefixLength}";
        }

        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, _high);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], _low);
        return $"{new IPAddress(bytes)}/{PrefixLength}";
    }

    /// <summary>Strict dotted-quad IPv4 (four decimal parts, no hex or octal forms).</summary>
    public static bool TryParseIPv4Address(ReadOnlySpan<char> text, out uint address) =>
        TryParseIPv4(text, allowShort: false, out address);

    private static (ulong High, ulong Low) Mask(int prefix128)
    {
        if (prefix128 == 0)
        {
            return (0, 0);
        }

        if (prefix128 <= 64)
        {
            return (ulong.MaxValue << (64 - prefix128), 0);
        }

        return (ulong.MaxValue, prefix128 == 128 ? ulong.MaxValue : ulong.MaxValue << (128 - prefix128));
    }

    /// <summary>Dotted decimal with 1..4 parts; fewer than 4 only when a prefix follows (127/8).</summary>
    private static bool TryParseIPv4(ReadOnlySpan<char> text, bool allowShort, out uint address)
    {
        address = 0;
        int parts = 0;
        while (true)
        {
            int dot = text.IndexOf('.');
            ReadOnlySpan<char> part = dot < 0 ? text : text[..dot];
            if (parts == 4 || !TryParseSmallDecimal(part, 255, out int value))
            {
                return false;
            }

            address |= (uint)value << (24 - (8 * parts));
            parts++;
            if (dot < 0)
            {
                break;
            }

            text = text[(dot + 1)..];
        }

        return parts == 4 || allowShort;
    }

    /// <summary>One to three decimal digits, at most <paramref name="max"/> (an octet, a prefix length).</summary>
    private static bool TryParseSmallDecimal(ReadOnlySpan<char> text, int max, out int value)
    {
        value = 0;
        if (text.Length > 3 || !ParameterValues.TryParseInteger(text, out long parsed) || parsed > max)
        {
            return false;
        }

        value = (int)parsed;
        return true;
    }
}
