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

    /// <summary>
    /// Folds <paramref name="source"/>: returns <paramref name="source"/> itself when none of its
    /// lines needed a break (nearly all mail: nothing is copied), else the folded text written
    /// into <paramref name="destination"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The destination is shorter than <see cref="GetMaxFoldedLength"/>.</exception>
    public ReadOnlySpan<byte> Fold(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < GetMaxFoldedLength(source.Length))
        {
            throw new ArgumentException("destination shorter than GetMaxFoldedLength(source.Length)", nameof(destination));
        }

        int column = _column;
        int src = 0;
        int dst = 0;

        // Lines that fit are not copied one by one: they accumulate into one block, copied when a
        // line needs folding or at the end. Finding them costs one vectorised search per window of
        // up to 994 octets, not one per line: every line that ends inside the window fits.
        int block = 0;
        while (src < source.Length)
        {
            ReadOnlySpan<byte> rest = source[src..];
            int fitting = Fitting(rest, ref column);
            if (fitting > 0)
            {
                src += fitting;
                continue;
            }

            // A long line (or one near the limit): find where it needs its first break, if anywhere.
            int lf = rest.IndexOf((byte)'\n');
            int run = lf < 0 ? rest.Length : lf + 1;
            int first = FirstBreak(rest[..run], ref column);
            if (first < 0)
            {
                src += run;
                continue;
            }

            // Copy what came before the break, then fold the rest of the line octet by octet.
            source[block..(src + first)].CopyTo(destination[dst..]);
            dst += src + first - block;
            FoldLine(rest[first..run], destination, ref dst, ref column);
            src += run;
            block = src;
        }

        _column = column;
        if (block == 0)
        {
            return source;
        }

        source[block..].CopyTo(destination[dst..]);
        dst += source.Length - block;
        return destination[..dst];
    }

    /// <summary>
    /// How many octets at the start of <paramref name="rest"/> (not empty) go through as they are, found
    /// with one search: up to the last LF within the room left on the line, or all of them when the
    /// chunk ends inside a line that still fits; 0 when the line from here may need a break.
    /// </summary>
    private static int Fitting(ReadOnlySpan<byte> rest, ref int column)
    {
        // Room for a line from here, keeping a margin for a stuffed dot and the rest of a UTF-8
        // sequence that the next chunk may finish.
        int room = MaxLineLength - 4 - column;
        if (room <= 0)
        {
            return 0;
        }

        int last = (rest.Length > room ? rest[..room] : rest).LastIndexOf((byte)'\n');
        if (last >= 0)
        {
            column = 0;
            return last + 1;
        }

        if (rest.Length <= room)
        {
            // The chunk ends inside a line that still fits.
            column += rest.Length + (column == 0 && rest[0] == (byte)'.' ? 1 : 0);
            return rest.Length;
        }

        return 0;
    }

    /// <summary>
    /// Copies the rest of a long line octet by octet, inserting CRLF SPACE before an octet (or the
    /// start of a UTF-8 sequence) that would take the line past <see cref="MaxLineLength"/>.
    /// </summary>
    private void FoldLine(ReadOnlySpan<byte> line, Span<byte> destination, ref int dst, ref int column)
    {
        foreach (byte b in line)
        {
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
    }

    /// <summary>
    /// The offset in <paramref name="line"/> (one line or the start of one, up to its LF) where the
    /// first break goes, or -1 when it fits; <paramref name="column"/> moves up to that point.
    /// </summary>
    private static int FirstBreak(ReadOnlySpan<byte> line, ref int column)
    {
        int col = column;
        for (int i = 0; i < line.Length; i++)
        {
            byte b = line[i];
            if (b == (byte)'\r' || b == (byte)'\n')
            {
                col = b == (byte)'\n' ? 0 : col;
                continue;
            }

            int stuffed = col == 0 && b == (byte)'.' ? 1 : 0;
            if (col + stuffed + Utf8Width(b) > MaxLineLength)
            {
                column = col;
                return i;
            }

            col += 1 + stuffed;
        }

        column = col;
        return -1;
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
