using System.Buffers;

namespace AbilisFast.Protocol.Data;

/// <summary>
/// Line-ending normaliser for BDAT (RFC 3030) chunks: bytes are copied verbatim except that a bare LF
/// or a bare CR becomes CRLF. No dot handling, no terminator. A CR at the end of a chunk stays pending
/// until the next byte (or <see cref="Flush"/> after the last chunk) decides.
/// The destination must have room for at least 2 bytes.
/// </summary>
internal struct RawNormalizer
{
    private bool _pendingCr;
    private BareLineEndings _bare;

    /// <summary>The bare LF and bare CR bytes seen (and written as CRLF) since the last reset.</summary>
    public readonly BareLineEndings Bare => _bare;

    /// <summary>True when a CR was consumed whose meaning is not yet known.</summary>
    public readonly bool HasPendingCr => _pendingCr;

    public void Reset() => this = default;

    /// <summary>
    /// Returns <see cref="OperationStatus.Done"/> when all of <paramref name="source"/> was consumed,
    /// <see cref="OperationStatus.DestinationTooSmall"/> when the caller must flush and call again with the rest.
    /// </summary>
    public OperationStatus Normalize(ReadOnlySpan<byte> source, Span<byte> destination, out int consumed, out int written)
    {
        int src = 0;
        int dst = 0;

        while (src < source.Length)
        {
            byte b = source[src];

            if (_pendingCr)
            {
                if (destination.Length - dst < 2)
                {
                    break;
                }

                LineText.WriteCrLf(destination, ref dst);
                _pendingCr = false;
                if (b == (byte)'\n')
                {
                    src++;
                }
                else
                {
                    _bare.CarriageReturns++;
                }

                continue;
            }

            if (b == (byte)'\r')
            {
                src++;
                _pendingCr = true;
                continue;
            }

            if (b == (byte)'\n')
            {
                if (destination.Length - dst < 2)
                {
                    break;
                }

                LineText.WriteCrLf(destination, ref dst);
                _bare.LineFeeds++;
                src++;
                continue;
            }

            int run = LineText.CopyToLineEnd(source.Slice(src), destination.Slice(dst));
            if (run == 0)
            {
                break;
            }

            src += run;
            dst += run;
        }

        consumed = src;
        written = dst;
        return src == source.Length ? OperationStatus.Done : OperationStatus.DestinationTooSmall;
    }

    /// <summary>
    /// Call after the LAST chunk: a pending CR is a bare CR and is written as CRLF.
    /// Returns <see cref="OperationStatus.DestinationTooSmall"/> (writing nothing) if 2 bytes are needed but not available.
    /// </summary>
    public OperationStatus Flush(Span<byte> destination, out int written)
    {
        written = 0;
        if (!_pendingCr)
        {
            return OperationStatus.Done;
        }

        if (destination.Length < 2)
        {
            return OperationStatus.DestinationTooSmall;
        }

        LineText.WriteCrLf(destination, ref written);
        _pendingCr = false;
        _bare.CarriageReturns++;
        return OperationStatus.Done;
    }
}
