namespace AbilisFast.Protocol.Lines;

/// <summary>
/// Characters that valid UTF-8 may carry but that must never reach a log line, a console screen or
/// a header field as they are: the C1 controls U+0080..U+009F (U+0085 NEL ends a line for some
/// readers, U+009B CSI starts a terminal escape sequence as ESC [ does), the line and paragraph
/// separators U+2028 and U+2029, and the bidirectional embedding, override and isolate controls
/// U+202A..U+202E and U+2066..U+2069, which reorder what a terminal shows. Host names and mail
/// addresses never need them: a client that sends them is refused, and whatever is shown is escaped
/// (<see cref="ReplaceInPlace"/>, <see cref="ForDisplay"/>).
/// </summary>
internal static class UnsafeText
{
    /// <summary>The length in bytes (2 or 3) of the unsafe character that starts at <paramref name="index"/>, or 0.</summary>
    public static int LengthAt(ReadOnlySpan<byte> utf8, int index)
    {
        byte lead = utf8[index];
        if (lead == 0xC2)
        {
            // U+0080..U+009F: C2 80..C2 9F.
            return index + 1 < utf8.Length && utf8[index + 1] is >= 0x80 and <= 0x9F ? 2 : 0;
        }

        if (lead != 0xE2 || index + 2 >= utf8.Length)
        {
            return 0;
        }

        byte second = utf8[index + 1];
        byte third = utf8[index + 2];

        // U+2028..U+202E: E2 80 A8..AE; U+2066..U+2069: E2 81 A6..A9.
        return (second == 0x80 && third is >= 0xA8 and <= 0xAE) || (second == 0x81 && third is >= 0xA6 and <= 0xA9) ? 3 : 0;
    }

    /// <summary>True when <paramref name="utf8"/> holds one of the unsafe characters.</summary>
    public static bool Contains(ReadOnlySpan<byte> utf8)
    {
        int i = utf8.IndexOfAny((byte)0xC2, (byte)0xE2);
        while (i >= 0)
        {
            if (LengthAt(utf8, i) != 0)
            {
                return true;
            }

            int next = utf8[(i + 1)..].IndexOfAny((byte)0xC2, (byte)0xE2);
            i = next < 0 ? -1 : i + 1 + next;
        }

        return false;
    }

    /// <summary>Overwrites every byte of each unsafe character with '?' (the length stays the same, the rest stays valid UTF-8).</summary>
    public static void ReplaceInPlace(Span<byte> utf8)
    {
        // A vectorised search for the two lead bytes; plain ASCII text costs one pass and nothing else.
        int i = utf8.IndexOfAny((byte)0xC2, (byte)0xE2);
        while (i >= 0)
        {
            int length = LengthAt(utf8, i);
            if (length != 0)
            {
                utf8.Slice(i, length).Fill((byte)'?');
            }

            int from = i + Math.Max(length, 1);
            int next = utf8[from..].IndexOfAny((byte)0xC2, (byte)0xE2);
            i = next < 0 ? -1 : from + next;
        }
    }

    /// <summary>True for a UTF-16 character that must not be shown as it is: a C0 or C1 control, DEL, or one of the characters above.</summary>
    public static bool IsUnsafe(char c) =>
        char.IsControl(c) || c is (>= '\u2028' and <= '\u202E') or (>= '\u2066' and <= '\u2069');

    /// <summary><paramref name="text"/> with every control and unsafe character replaced by '?' (the same string when there is none).</summary>
    public static string ForDisplay(string text)
    {
        bool unsafeFound = false;
        foreach (char c in text)
        {
            unsafeFound |= IsUnsafe(c);
        }

        if (!unsafeFound)
        {
            return text;
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                span[i] = IsUnsafe(source[i]) ? '?' : source[i];
            }
        });
    }
}
