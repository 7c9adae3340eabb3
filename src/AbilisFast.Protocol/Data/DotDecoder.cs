using System.Buffers;

namespace AbilisFast.Protocol.Data;

/// <summary>
/// Incremental decoder for the SMTP DATA body (RFC 5321 4.5.2), hardened against SMTP smuggling.
/// </summary>
/// <remarks>
/// Policy: the only end-of-data marker is CRLF "." CRLF, where both CRLFs are real CR LF pairs.
/// The decoder starts at a line start (right after the CRLF of the DATA command).
/// <list type="bullet">
/// <item>A line that begins after a real CRLF (or at the start) and starts with '.' loses that first '.'.
/// If the line is exactly ".\r\n" it is the terminator: decoding stops and the terminator is consumed but not output.
/// The CRLF before the terminator is content.</item>
/// <item>A bare LF (not preceded by CR) or bare CR (not followed by LF) is written as CRLF, counted,
/// and does NOT start a line: the following line is neither dot-unstuffed nor a possible terminator.</item>
/// <item>All other bytes, NUL included, pass through unchanged.</item>
/// </list>
/// The destination must have room for at least 2 bytes, otherwise no progress can be made.
/// After <see cref="OperationStatus.Done"/> the decoder stays finished until <see cref="Reset"/>.
/// </remarks>
internal struct DotDecoder
{
    private State _state;
    private long _bareLineFeeds;
    private long _bareCarriageReturns;

    /// <summary>Bare LF bytes (LF not preceded by CR) seen since the last reset.</summary>
    public readonly long BareLineFeeds => _bareLineFeeds;

    /// <summary>Bare CR bytes (CR not followed by LF) seen since the last reset.</summary>
    public readonly long BareCarriageReturns => _bareCarriageReturns;

    /// <summary>True once the terminator has been consumed.</summary>
    public readonly bool IsCompleted => _state == State.Completed;

    public void Reset() => this = default;

    public OperationStatus Decode(ReadOnlySpan<byte> source, Span<byte> destination, out int consumed, out int written)
    {
        int src = 0;
        int dst = 0;
        OperationStatus status;

        while (true)
        {
            if (_state == State.Completed)
            {
                status = OperationStatus.Done;
                break;
            }

            // Resolve a CR whose fate was decided by a non-LF byte; consumes nothing.
            if (src < source.Length && source[src] != (byte)'\n'
                && (_state == State.PendingCr || _state == State.DotPendingCr))
            {
                if (destination.Length - dst < 2)
                {
                    status = OperationStatus.DestinationTooSmall;
                    break;
                }

                WriteCrLf(destination, ref dst);
                _bareCarriageReturns++;
                _state = State.MidLine;
                continue;
            }

            if (src == source.Length)
            {
                status = OperationStatus.NeedMoreData;
                break;
            }

            if (dst == destination.Length)
            {
                status = OperationStatus.DestinationTooSmall;
                break;
            }

            byte b = source[src];
            switch (_state)
            {
                case State.LineStart:
                    if (b == (byte)'.')
                    {
                        src++;
                        _state = State.DotAtLineStart;
                        continue;
                    }

                    break;

                case State.DotAtLineStart:
                    if (b == (byte)'\r')
                    {
                        src++;
                        _state = State.DotPendingCr;
                        continue;
                    }

                    break;

                case State.DotPendingCr:
                    // b is LF here (other bytes were resolved above): ".\r\n" at a real line start.
                    src++;
                    _state = State.Completed;
                    continue;

                case State.PendingCr:
                    // b is LF here: a real CRLF.
                    if (destination.Length - dst < 2)
                    {
                        status = OperationStatus.DestinationTooSmall;
                        goto exit;
                    }

                    src++;
                    WriteCrLf(destination, ref dst);
                    _state = State.LineStart;
                    continue;
            }

            // Ordinary byte processing (LineStart / DotAtLineStart / MidLine).
            if (b == (byte)'\r')
            {
                src++;
                _state = State.PendingCr;
                continue;
            }

            if (b == (byte)'\n')
            {
                if (destination.Length - dst < 2)
                {
                    status = OperationStatus.DestinationTooSmall;
                    break;
                }

                src++;
                WriteCrLf(destination, ref dst);
                _bareLineFeeds++;
                _state = State.MidLine;
                continue;
            }

            // Bulk copy up to the next CR or LF.
            int run = LineText.CopyToLineEnd(source.Slice(src), destination.Slice(dst));
            src += run;
            dst += run;
            _state = State.MidLine;
        }

    exit:
        consumed = src;
        written = dst;
        return status;
    }

    private static void WriteCrLf(Span<byte> destination, ref int dst)
    {
        destination[dst] = (byte)'\r';
        destination[dst + 1] = (byte)'\n';
        dst += 2;
    }

    private enum State : byte
    {
        /// <summary>After a real CRLF or at the start of the body.</summary>
        LineStart = 0,

        /// <summary>Inside a line, or at the start of a line that followed a bare CR/LF.</summary>
        MidLine,

        /// <summary>The leading '.' of a real line was dropped.</summary>
        DotAtLineStart,

        /// <summary>"." then CR at a real line start: LF completes the terminator.</summary>
        DotPendingCr,

        /// <summary>A CR was consumed; the next byte decides whether it is part of CRLF.</summary>
        PendingCr,

        Completed,
    }
}
