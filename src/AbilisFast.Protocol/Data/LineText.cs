namespace AbilisFast.Protocol.Data;

/// <summary>The bulk step the DATA and BDAT decoders share: copy plain text up to the next CR or LF.</summary>
internal static class LineText
{
    /// <summary>
    /// Copies the bytes of <paramref name="source"/> before its first CR or LF into
    /// <paramref name="destination"/>, as many as fit; returns how many were copied.
    /// </summary>
    public static int CopyToLineEnd(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int run = source.IndexOfAny((byte)'\r', (byte)'\n');
        if (run < 0)
        {
            run = source.Length;
        }

        run = Math.Min(run, destination.Length);
        source[..run].CopyTo(destination);
        return run;
    }
}
