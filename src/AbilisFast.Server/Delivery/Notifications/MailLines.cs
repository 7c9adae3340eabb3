using System.Globalization;
using System.Text;

namespace AbilisFast.Server.Delivery;

/// <summary>
/// Writes message lines that are safe on the wire: every line ends in CRLF, none is longer than
/// 998 octets (RFC 5322 2.1.1), header fields are folded before whitespace, a UTF-8 sequence is
/// never cut in two. Also the small text helpers the notification needs (dates, cleaning, RFC 6533 xtext).
/// </summary>
internal static class MailLines
{
    /// <summary>Hard limit of one line without its CRLF.</summary>
    public const int MaxLineOctets = 998;

    /// <summary>Preferred length of the header fields we write ourselves.</summary>
    public const int PreferredLineOctets = 78;

    public static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    /// <summary>
    /// Writes one header field (without its CRLF), folded before whitespace so that lines stay within
    /// <paramref name="preferred"/> octets where the text allows and never exceed 998. A run without
    /// whitespace longer than 998 octets is broken and continued on a line starting with a space.
    /// </summary>
    public static void WriteHeaderField(Stream output, ReadOnlySpan<byte> field, int preferred)
    {
        int lastText = LastNonWhitespace(field);
        bool prefixed = false;
        while (true)
        {
            int extra = prefixed ? 1 : 0;
            if (field.Length + extra <= preferred)
            {
                break;
            }

            int soft = preferred - extra;
            int hard = MaxLineOctets - extra;
            int cut = LastFoldPoint(field, Math.Min(soft, lastText - 1));
            if (cut <= 0)
            {
                cut = FirstFoldPoint(field, soft + 1, Math.Min(hard, lastText - 1));
            }

            bool forced = false;
            if (cut <= 0)
            {
                if (field.Length + extra <= MaxLineOctets)
                {
                    break;
                }

                cut = Utf8Cut(field, hard);
                forced = true;
            }

            if (prefixed)
            {
                output.WriteByte((byte)' ');
            }

            output.Write(field[..cut]);
            output.Write(Crlf);
            field = field[cut..];
            lastText -= cut;
            prefixed = forced;
        }

        if (prefixed)
        {
            output.WriteByte((byte)' ');
        }

        output.Write(field);
        output.Write(Crlf);
    }

    /// <summary>Writes one header field given as text (UTF-8), folded as <see cref="WriteHeaderField(Stream, ReadOnlySpan{byte}, int)"/>.</summary>
    public static void WriteHeaderField(Stream output, string name, string value, int preferred = PreferredLineOctets)
    {
        WriteHeaderField(output, Encoding.UTF8.GetBytes(name + ": " + value), preferred);
    }

    /// <summary>Writes one body line (without its CRLF); a line over 998 octets is broken into several.</summary>
    public static void WriteBodyLine(Stream output, ReadOnlySpan<byte> line)
    {
        while (line.Length > MaxLineOctets)
        {
            int cut = Utf8Cut(line, MaxLineOctets);
            output.Write(line[..cut]);
            output.Write(Crlf);
            line = line[cut..];
        }

        output.Write(line);
        output.Write(Crlf);
    }

    /// <summary>RFC 5322 date-time in the invariant culture: "Sat, 28 Nov 2026 19:16:37 +0000".</summary>
    public static string FormatDate(DateTimeOffset date)
    {
        TimeSpan offset = date.Offset;
        char sign = offset < TimeSpan.Zero ? '-' : '+';
        offset = offset.Duration();
        return date.ToString("ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture)
            + sign
            + offset.Hours.ToString("00", CultureInfo.InvariantCulture)
            + offset.Minutes.ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary>The text with every control character (CR, LF, TAB, DEL, C1) turned into a space, trimmed: no header injection.</summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? ' ' : source[i];
            }
        }).Trim();
    }

    /// <summary><see cref="Clean"/>, then every non-ASCII character as '?': for fields that must be US-ASCII.</summary>
    public static string CleanAscii(string? text)
    {
        string clean = Clean(text);
        if (Ascii.IsValid(clean))
        {
            return clean;
        }

        var builder = new StringBuilder(clean.Length);
        foreach (Rune rune in clean.EnumerateRunes())
        {
            builder.Append(rune.IsAscii ? (char)rune.Value : '?');
        }

        return builder.ToString();
    }

    /// <summary>
    /// RFC 6533 utf-8-addr-xtext: printable ASCII except '\', '+' and '=' as it is, every other
    /// character as \x{HEX} (upper case, no leading zeros).
    /// </summary>
    public static string EncodeUtf8AddressXtext(string address)
    {
        var builder = new StringBuilder(address.Length + 16);
        foreach (Rune rune in address.EnumerateRunes())
        {
            int value = rune.Value;
            if (value is > 0x20 and < 0x7F && value is not ('\\' or '+' or '='))
            {
                builder.Append((char)value);
            }
            else
            {
                builder.Append("\\x{").Append(value.ToString("X2", CultureInfo.InvariantCulture)).Append('}');
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// Word-wraps one line of text to <paramref name="width"/> characters where it has spaces; lines
    /// after the first start with <paramref name="indent"/>. Words longer than the width stay whole
    /// (<see cref="WriteBodyLine"/> still keeps them under 998 octets).
    /// </summary>
    public static IEnumerable<string> Wrap(string text, int width, string indent)
    {
        string prefix = string.Empty;
        while (prefix.Length + text.Length > width)
        {
            int room = width - prefix.Length;
            int cut = text.LastIndexOf(' ', Math.Min(room, text.Length - 1));
            if (cut <= 0)
            {
                cut = text.IndexOf(' ', room);
                if (cut <= 0)
                {
                    break;
                }
            }

            yield return prefix + text[..cut].TrimEnd();
            text = text[(cut + 1)..].TrimStart();
            prefix = indent;
        }

        yield return prefix + text;
    }

    private static int LastNonWhitespace(ReadOnlySpan<byte> line)
    {
        int i = line.Length - 1;
        while (i >= 0 && IsWhitespace(line[i]))
        {
            i--;
        }

        return i;
    }

    /// <summary>Largest i in [1, max] where line[i] is whitespace after a non-whitespace octet, or 0.</summary>
    private static int LastFoldPoint(ReadOnlySpan<byte> line, int max)
    {
        for (int i = Math.Min(max, line.Length - 1); i >= 1; i--)
        {
            if (IsWhitespace(line[i]) && !IsWhitespace(line[i - 1]))
            {
                return i;
            }
        }

        return 0;
    }

    /// <summary>Smallest i in [from, max] where line[i] is whitespace after a non-whitespace octet, or 0.</summary>
    private static int FirstFoldPoint(ReadOnlySpan<byte> line, int from, int max)
    {
        for (int i = Math.Max(from, 1); i <= max && i < line.Length; i++)
        {
            if (IsWhitespace(line[i]) && !IsWhitespace(line[i - 1]))
            {
                return i;
            }
        }

        return 0;
    }

    /// <summary>The cut at or before <paramref name="limit"/> that does not split a UTF-8 sequence (line is longer than limit).</summary>
    private static int Utf8Cut(ReadOnlySpan<byte> line, int limit)
    {
        int cut = limit;
        while (cut > limit - 4 && cut > 0 && (line[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        return (line[cut] & 0xC0) == 0x80 ? limit : cut;
    }

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t';
}
