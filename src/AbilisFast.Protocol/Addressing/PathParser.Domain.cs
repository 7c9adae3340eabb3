using System.Buffers;
using System.Net;
using System.Text;

namespace AbilisFast.Protocol.Addressing;

internal static partial class PathParser
{
    // Let-dig / Ldh-str bytes, plus bytes >= 0x80 for U-labels (RFC 6531).
    private static readonly SearchValues<byte> LdhOrHigh = SearchValues.Create(BuildLdh());

    // Domain = sub-domain *("." sub-domain); no trailing dot.
    private static PathStatus ParseDomain(ReadOnlySpan<byte> arg, ref int i, ref PathFlags flags)
    {
        int start = i;
        do
        {
            int labelStart = i;
            int labelLength = TakeRun(arg, ref i, LdhOrHigh);
            if (labelLength == 0 || arg[labelStart] == (byte)'-' || arg[i - 1] == (byte)'-')
            {
                return PathStatus.SyntaxError;
            }

            if (labelLength > MaxLabelLength)
            {
                return PathStatus.TooLong;
            }
        }
        while (TakeDot(arg, ref i));

        ReadOnlySpan<byte> domain = arg.Slice(start, i - start);
        if (domain.Length > MaxDomainLength)
        {
            return PathStatus.TooLong;
        }

        if (domain.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0)
        {
            flags |= PathFlags.HasNonAscii;
        }

        return PathStatus.Ok;
    }

    // address-literal = "[" ( IPv4-address-literal / IPv6-address-literal ) "]"
    // General-address-literal (other tags) is not supported.
    private static PathStatus ParseAddressLiteral(ReadOnlySpan<byte> arg, ref int i)
    {
        int start = i;
        int close = arg.Slice(start).IndexOf((byte)']');
        if (close < 0)
        {
            return PathStatus.SyntaxError;
        }

        ReadOnlySpan<byte> content = arg.Slice(start + 1, close - 1);
        i = start + close + 1;
        if (close + 1 > MaxDomainLength)
        {
            return PathStatus.TooLong;
        }

        bool valid = content.Length > 5 && Ascii.EqualsIgnoreCase(content.Slice(0, 5), "IPv6:"u8)
            ? IsIPv6(content.Slice(5))
            : IsDottedQuad(content);
        return valid ? PathStatus.Ok : PathStatus.SyntaxError;
    }

    private static bool IsIPv6(ReadOnlySpan<byte> text)
    {
        // Only hex digits, ':' and '.' (embedded IPv4); no zone id, no brackets.
        foreach (byte c in text)
        {
            if (!char.IsAsciiHexDigit((char)c) && c != (byte)':' && c != (byte)'.')
            {
                return false;
            }
        }

        return text.Contains((byte)':') && IPAddress.IsValidUtf8(text);
    }

    // Snum "." Snum "." Snum "." Snum, Snum = 1*3DIGIT in 0..255.
    private static bool IsDottedQuad(ReadOnlySpan<byte> literal)
    {
        ReadOnlySpan<byte> text = literal;
        int parts = 0;
        while (true)
        {
            int digits = 0;
            int value = 0;
            while (digits < text.Length && char.IsAsciiDigit((char)text[digits]))
            {
                value = (value * 10) + (text[digits] - '0');
                digits++;
                if (digits > 3)
                {
                    return false;
                }
            }

            if (digits == 0 || value > 255)
            {
                return false;
            }

            parts++;
            text = text.Slice(digits);
            if (parts == 4)
            {
                return text.IsEmpty && IPAddress.IsValidUtf8(literal);
            }

            if (text.IsEmpty || text[0] != (byte)'.')
            {
                return false;
            }

            text = text.Slice(1);
        }
    }

    private static byte[] BuildLdh()
    {
        var bytes = new List<byte>();
        for (int c = 0; c < 256; c++)
        {
            if (char.IsAsciiLetterOrDigit((char)c) || c == '-' || c >= 0x80)
            {
                bytes.Add((byte)c);
            }
        }

        return bytes.ToArray();
    }
}
