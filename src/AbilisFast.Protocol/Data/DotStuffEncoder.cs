using System.Buffers;

namespace AbilisFast.Protocol.Data;

/// <summary>
/// Incremental dot-stuffing encoder: a '.' is added in front of every line that starts with '.'.
/// A line starts at the beginning of the body and after each CRLF. The body is assumed CRLF-normalised.
/// Call <see cref="Finish"/> once after the last chunk to write the end-of-data marker.
/// The destination must have room for at least 2 bytes.
/// </summary>
internal struct DotStuffEncoder
{
    // Default state = at the start of the body, which is a line start.
    private bool _midLine;
    private bool _lastWasCr;
    private bool _finished;

    public void Reset() => this = default;

    /// <summary>
    /// Returns <see cref="OperationStatus.Done"/> when all of <paramref name="source"/> was consumed,
    /// <see cref="OperationStatus.DestinationTooSmall"/> when the caller must flush and call again with the rest.
    /// </summary>
    public OperationStatus Encode(ReadOnlySpan<byte> source, Span<byte> destination, out int consumed, out int written)
    {
        if (_finished)
        {
            throw new InvalidOperationException("Encoder already finished; call Reset().");
        }

        int src = 0;
        int dst = 0;

        while (src < source.Length && dst < destination.Length)
        {
            if (!_midLine)
            {
                if (source[src] == (byte)'.')
                {
                    if (destination.Length - dst < 2)
                    {
                        break;
                    }

                    destination[dst++] = (byte)'.';
                    destination[dst++] = (byte)'.';
                    src++;
                    _midLine = true;
                    _lastWasCr = false;
                    continue;
                }

                _midLine = true;
            }

            // Copy up to and including the next LF.
            ReadOnlySpan<byte> rest = source.Slice(src);
            int lf = rest.IndexOf((byte)'\n');
            int run = lf < 0 ? rest.Length : lf + 1;
            run = Math.Min(run, destination.Length - dst);
            ReadOnlySpan<byte> chunk = rest.Slice(0, run);
            chunk.CopyTo(destination.Slice(dst));
            src += run;
            dst += run;

            if (chunk[^1] == (byte)'\n')
            {
                bool crBefore = chunk.Length >= 2 ? chunk[^2] == (byte)'\r' : _lastWasCr;
                _midLine = !crBefore;
                _lastWasCr = false;
            }
            else
            {
                _lastWasCr = chunk[^1] == (byte)'\r';
            }
        }

        consumed = src;
        written = dst;
        return src == source.Length ? OperationStatus.Done : OperationStatus.DestinationTooSmall;
    }

    /// <summary>
    /// Writes the end-of-data marker: ".\r\n" when the body is empty or ends in CRLF, otherwise "\r\n.\r\n".
    /// Returns <see cref="OperationStatus.DestinationTooSmall"/> (writing nothing) if the destination cannot hold it.
    /// </summary>
    public OperationStatus Finish(Span<byte> destination, out int written)
    {
        ReadOnlySpan<byte> tail = _midLine ? DotStuffer.CrLfTerminator : DotStuffer.Terminator;
        if (destination.Length < tail.Length)
        {
            written = 0;
            return OperationStatus.DestinationTooSmall;
        }

        tail.CopyTo(destination);
        written = tail.Length;
        _finished = true;
        return OperationStatus.Done;
    }
}
