using System.Buffers;

namespace AbilisFast.Protocol.Lines;

/// <summary>Outcome of one attempt to take a command line from the receive buffer.</summary>
internal enum LineStatus : byte
{
    /// <summary>A whole line was taken; the buffer was advanced past its LF.</summary>
    Line,
    /// <summary>No LF yet and fewer than the cap buffered: read more.</summary>
    Incomplete,
    /// <summary>The cap was reached without an LF: the caller discards up to the next LF.</summary>
    TooLong,
}

/// <summary>What the line looked like apart from its text (the bare CR/LF policy is the caller's).</summary>
[Flags]
internal enum LineFlags : byte
{
    None = 0,
    /// <summary>The line ended in LF without a CR before it.</summary>
    BareLf = 1,
    /// <summary>A CR stands inside the line (not as part of the CRLF ending).</summary>
    BareCr = 2,
}

/// <summary>
/// Takes CRLF-terminated lines out of a pipe's buffer without allocating: the fast path finds the
/// LF in the first segment; a line split across segments is copied into the caller's scratch span.
/// The search never looks further than the cap, so an endless line costs no more than the cap.
/// </summary>
internal static class LineReader
{
    /// <summary>RFC 5321 4.5.3.1.4: a command line is at most 512 octets including CRLF.</summary>
    public const int MaxCommandLine = 512;

    /// <summary>
    /// Tries to take one line of at most <paramref name="maxLength"/> octets (including the CRLF).
    /// On <see cref="LineStatus.Line"/>, <paramref name="line"/> holds the text without CR/LF and
    /// <paramref name="buffer"/> starts after the LF. <paramref name="scratch"/> must be at least
    /// <paramref name="maxLength"/> long.
    /// </summary>
    public static LineStatus TryRead(ref ReadOnlySequence<byte> buffer, Span<byte> scratch, int maxLength,
        out ReadOnlySpan<byte> line, out LineFlags flags)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        int window = (int)Math.Min(buffer.Length, maxLength);
        int lf;
        if (first.Length >= window)
        {
            lf = first[..window].IndexOf((byte)'\n');
            if (lf >= 0)
            {
                line = first[..lf];
                buffer = buffer.Slice(lf + 1);
                return Finish(ref line, out flags);
            }
        }
        else
        {
            SequencePosition? pos = buffer.Slice(0, window).PositionOf((byte)'\n');
            if (pos is { } p)
            {
                ReadOnlySequence<byte> text = buffer.Slice(0, p);
                lf = (int)text.Length;
                text.CopyTo(scratch);
                line = scratch[..lf];
                buffer = buffer.Slice(buffer.GetPosition(1, p));
                return Finish(ref line, out flags);
            }
        }

        line = default;
        flags = LineFlags.None;
        return window >= maxLength ? LineStatus.TooLong : LineStatus.Incomplete;
    }

    /// <summary>
    /// Discards input up to and including the next LF. Returns true when the LF was found (the
    /// oversized line is over); false when the whole buffer was discarded and more must be read.
    /// </summary>
    public static bool SkipLine(ref ReadOnlySequence<byte> buffer)
    {
        SequencePosition? pos = buffer.PositionOf((byte)'\n');
        if (pos is { } p)
        {
            buffer = buffer.Slice(buffer.GetPosition(1, p));
            return true;
        }

        buffer = buffer.Slice(buffer.End);
        return false;
    }

    private static LineStatus Finish(ref ReadOnlySpan<byte> line, out LineFlags flags)
    {
        flags = LineFlags.None;
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }
        else
        {
            flags = LineFlags.BareLf;
        }

        if (line.Contains((byte)'\r'))
        {
            flags |= LineFlags.BareCr;
        }

        return LineStatus.Line;
    }
}
