using System.Buffers;
using System.Runtime.CompilerServices;

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
    private long _bareLineFeeds;
    private long _bareCarriageReturns;

    public readonly long BareLineFeeds => _bareLineFeeds;

    public readonly long BareCarriageReturns => _bareCarriageReturns;

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
                if (!TryEndPendingCr(b, destination, ref src, ref dst))
                {
                    break;
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
                if (!TryWriteCrLf(destination, ref dst))
                {
                    break;
                }

                _bareLineFeeds++;
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
    /// The CR before <paramref name="next"/> is written as CRLF: with the LF that follows it (consumed),
    /// or alone as a bare CR; false (nothing done) when there is no room.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryEndPendingCr(byte next, Span<byte> destination, ref int src, ref int dst)
    {
        if (!TryWriteCrLf(destination, ref dst))
        {
            return false;
        }

        _pendingCr = false;
        if (next == (byte)'\n')
        {
            src++;
        }
        else
        {
            _bareCarriageReturns++;
        }

        return true;
    }

    /// <summary>Writes CRLF at <paramref name="dst"/> and moves past it; false (nothing written) when there is no room for both.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryWriteCrLf(Span<byte> destination, ref int dst)
    {
        if (destination.Length - dst < 2)
        {
            return false;
        }

        destination[dst++] = (byte)'\r';
        destination[dst++] = (byte)'\n';
        return true;
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

        destination[0] = (byte)'\r';
        destination[1] = (byte)'\n';
        written = 2;
        _pendingCr = false;
        _bareCarriageReturns++;
        return OperationStatus.Done;
    }
}
