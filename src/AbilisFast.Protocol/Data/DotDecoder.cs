using System.Buffers;
using System.Runtime.CompilerServices;

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
    private BareLineEndings _bare;

    /// <summary>The bare LF and bare CR bytes seen (and written as CRLF) since the last reset.</summary>
    public readonly BareLineEndings Bare => _bare;

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

                LineText.WriteCrLf(destination, ref dst);
                _bare.CarriageReturns++;
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

            Flow flow = LineStartStep(source[src], destination, ref src, ref dst);
            if (flow == Flow.Ordinary)
            {
                flow = OrdinaryStep(source, destination, ref src, ref dst);
            }

            if (flow == Flow.DestinationTooSmall)
            {
                status = OperationStatus.DestinationTooSmall;
                break;
            }
        }

        consumed = src;
        written = dst;
        return status;
    }

    /// <summary>What one step of <see cref="Decode"/> did.</summary>
    private enum Flow : byte
    {
        /// <summary>The byte was taken (or the state moved on): go on with the loop.</summary>
        Continue,

        /// <summary>Nothing special about the byte at this point: ordinary processing takes it.</summary>
        Ordinary,

        /// <summary>A CRLF is due and the destination has no room for it.</summary>
        DestinationTooSmall,
    }

    /// <summary>The states at a line start and after a CR: the dot of a terminator or of stuffing, and CRLF.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Flow LineStartStep(byte b, Span<byte> destination, ref int src, ref int dst)
    {
        switch (_state)
        {
            case State.LineStart when b == (byte)'.':
                src++;
                _state = State.DotAtLineStart;
                return Flow.Continue;

            case State.DotAtLineStart when b == (byte)'\r':
                src++;
                _state = State.DotPendingCr;
                return Flow.Continue;

            case State.DotPendingCr:
                // b is LF here (other bytes were resolved before): ".\r\n" at a real line start.
                src++;
                _state = State.Completed;
                return Flow.Continue;

            case State.PendingCr:
                // b is LF here: a real CRLF.
                if (destination.Length - dst < 2)
                {
                    return Flow.DestinationTooSmall;
                }

                src++;
                LineText.WriteCrLf(destination, ref dst);
                _state = State.LineStart;
                return Flow.Continue;

            default:
                return Flow.Ordinary;
        }
    }

    /// <summary>A byte of LineStart, DotAtLineStart or MidLine: CR waits for its LF, a bare LF becomes CRLF, text is copied in bulk.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Flow OrdinaryStep(ReadOnlySpan<byte> source, Span<byte> destination, ref int src, ref int dst)
    {
        byte b = source[src];
        if (b == (byte)'\r')
        {
            src++;
            _state = State.PendingCr;
            return Flow.Continue;
        }

        if (b == (byte)'\n')
        {
            if (destination.Length - dst < 2)
            {
                return Flow.DestinationTooSmall;
            }

            src++;
            LineText.WriteCrLf(destination, ref dst);
            _bare.LineFeeds++;
            _state = State.MidLine;
            return Flow.Continue;
        }

        // Bulk copy up to the next CR or LF.
        int run = LineText.CopyToLineEnd(source.Slice(src), destination.Slice(dst));
        src += run;
        dst += run;
        _state = State.MidLine;
        return Flow.Continue;
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
