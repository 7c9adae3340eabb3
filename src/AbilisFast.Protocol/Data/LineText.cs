using System.Runtime.CompilerServices;

namespace AbilisFast.Protocol.Data;

/// <summary>
/// The steps the DATA and BDAT decoders share: copy plain text up to the next CR or LF, and write
/// the CRLF that ends a line (a real one, or a bare CR or LF rewritten).
/// </summary>
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

    /// <summary>Writes CRLF at <paramref name="dst"/> and moves it on; the caller made sure two bytes fit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteCrLf(Span<byte> destination, ref int dst)
    {
        destination[dst] = (byte)'\r';
        destination[dst + 1] = (byte)'\n';
        dst += 2;
    }
}

/// <summary>The bare line endings a decoder rewrote as CRLF since its last reset.</summary>
internal struct BareLineEndings
{
    /// <summary>LF bytes not preceded by CR.</summary>
    public long LineFeeds;

    /// <summary>CR bytes not followed by LF.</summary>
    public long CarriageReturns;
}
