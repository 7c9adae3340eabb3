namespace AbilisFast.Protocol.Data;

/// <summary>
/// Keeps every line of outgoing message text within RFC 5321 4.5.3.1.6 (998 octets before the
/// CRLF) the way Postfix's <c>smtp_line_length_limit = 998</c> does: a longer line is broken by
/// inserting CRLF SPACE, which in a header is ordinary folding and in a body leaves MIME structure
/// (boundaries, base64, which never come near the limit) alone. Two refinements on Postfix: the
/// octet that dot-stuffing will add in front of a line starting with '.' is counted, so the line as
/// it goes on the wire stays within the limit; and a break never falls inside a UTF-8 sequence (a
/// lead octet whose sequence would not fit moves to the next line), so 8-bit text stays valid.
/// </summary>
/// <remarks>
/// Incremental: the column carries over from one call to the next, so the text can be fed in chunks
/// cut anywhere. The input must be CRLF-normalised (<see cref="RawNormalizer"/>): a CR is only ever
/// the first half of a line end. Apply it after normalising and before dot-stuffing.
/// </remarks>
internal struct LineFolder
{
    /// <summary>The longest line, CRLF not counted (RFC 5321 4.5.3.1.6).</summary>
    public const int MaxLineLength = 998;

    // Octets on the current output line as they will go on the wire (a stuffed leading dot counts twice).
    private int _column;
    private long _folds;

    /// <summary>How many breaks were inserted since the last <see cref="Reset"/>.</summary>
    public readonly long Folds => _folds;

    public void Reset() => this = default;

    /// <summary>The room <see cref="Fold"/> needs for <paramref name="length"/> octets of input.</summary>
    public static int GetMaxFoldedLength(int length) =>
        // A break (3 octets) at most once per 994 octets of input after the first one, which may
        // come at once when the previous chunk ended at the limit.
        checked(length + (3 * ((length / (MaxLineLength - 8)) + 2)));

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/>, folding as it goes; returns the octets written.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than <see cref="GetMaxFoldedLength"/>.</exception>
    public int Fold(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < GetMaxFoldedLength(source.Length))
        {
            throw new ArgumentException("destination shorter than GetMaxFoldedLength(source.Length)", nameof(destination));
        }

        int column = _column;
        int src = 0;
        int dst = 0;
        while (src < source.Length)
        {
            ReadOnlySpan<byte> rest = source[src..];
            int lf = rest.IndexOf((byte)'\n');
            int run = lf < 0 ? rest.Length : lf + 1;
            int dot = column == 0 && rest[0] == (byte)'.' ? 1 : 0;

            // Fast path: the run fits even counting its line end, a stuffed dot and the rest of a
            // UTF-8 sequence that the next chunk may finish.
            if (column + dot + run + 3 <= MaxLineLength)
            {
                rest[..run].CopyTo(destination[dst..]);
                dst += run;
                src += run;
                column = lf < 0 ? column + dot + run : 0;
                continue;
            }

            for (int i = 0; i < run; i++)
            {
                byte b = rest[i];
                if (b == (byte)'\r' || b == (byte)'\n')
                {
                    destination[dst++] = b;
                    column = b == (byte)'\n' ? 0 : column;
                    continue;
                }

                int stuffed = column == 0 && b == (byte)'.' ? 1 : 0;
                if (column + stuffed + Utf8Width(b) > MaxLineLength)
                {
                    destination[dst++] = (byte)'\r';
                    destination[dst++] = (byte)'\n';
                    destination[dst++] = (byte)' ';
                    column = 1;
                    stuffed = 0;
                    _folds++;
                }

                destination[dst++] = b;
                column += 1 + stuffed;
            }

            src += run;
        }

        _column = column;
        return dst;
    }

    /// <summary>Octets of the UTF-8 sequence that <paramref name="b"/> starts (1 for ASCII, continuation and invalid octets).</summary>
    private static int Utf8Width(byte b) => b switch
    {
        >= 0xF0 and <= 0xF4 => 4,
        >= 0xE0 and <= 0xEF => 3,
        >= 0xC2 and <= 0xDF => 2,
        _ => 1,
    };
}
