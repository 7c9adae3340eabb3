namespace AbilisFast.Protocol.Data;

/// <summary>
/// Counts the <c>Received:</c> header fields of a message while its text streams by, in chunks of
/// any size (one pass, no buffering, no allocation): the hop count that mail-loop detection
/// compares with HOP-LIMIT (RFC 5321 6.3, Postfix's hopcount_limit, Exim's received_headers_max).
/// </summary>
/// <remarks>
/// Only the header section counts. It ends at the empty line, or, as in Postfix, at the first line
/// that is not a header field (no <c>name:</c> at its start, and not a continuation of one), so a
/// <c>Received:</c> line in the body is never counted. A field is <c>Received</c> when its name is
/// that word in any case, followed by optional spaces or tabs (RFC 5322 obsolete syntax) and the
/// colon. Continuation lines (starting with a space or tab) belong to the field above them, so
/// <c>Received:</c> text inside a folded field does not count either. Lines end at LF (the receive
/// path only ever passes CRLF lines). After the header section the counter only tests one field.
/// </remarks>
internal struct ReceivedCounter
{
    /// <summary>The field name, lower case; <see cref="_matched"/> counts how much of it a name matched.</summary>
    private static ReadOnlySpan<byte> Name => "received"u8;

    private const byte NoMatch = byte.MaxValue;

    private State _state;
    private byte _matched;
    private int _count;

    /// <summary><c>Received:</c> header fields seen so far.</summary>
    public readonly int Count => _count;

    /// <summary>True once the header section has ended: nothing more can be counted.</summary>
    public readonly bool HeaderEnded => _state == State.Body;

    public void Reset() => this = default;

    /// <summary>Reads the next piece of the message text.</summary>
    public void Feed(ReadOnlySpan<byte> text)
    {
        int i = 0;
        while (i < text.Length)
        {
            byte b = text[i];
            switch (_state)
            {
                case State.Body:
                    return;

                case State.FirstLine:
                case State.LineStart:
                    if (IsNameByte(b))
                    {
                        _matched = 0;
                        _state = State.FieldName;
                        continue; // the same byte, as the first of the name
                    }

                    if ((b == (byte)' ' || b == (byte)'\t') && _state == State.LineStart)
                    {
                        _state = State.SkipLine; // a continuation line
                        i++;
                        continue;
                    }

                    // The empty line (CRLF), or a line that is no header field: the body starts.
                    _state = State.Body;
                    return;

                case State.FieldName:
                    if (b == (byte)':')
                    {
                        EndOfName();
                        i++;
                        continue;
                    }

                    if (b == (byte)' ' || b == (byte)'\t')
                    {
                        _state = State.BeforeColon;
                        i++;
                        continue;
                    }

                    if (!IsNameByte(b))
                    {
                        _state = State.Body;
                        return;
                    }

                    if (_matched < Name.Length && (b | 0x20) == Name[_matched])
                    {
                        _matched++;
                    }
                    else
                    {
                        _matched = NoMatch;
                    }

                    i++;
                    continue;

                case State.BeforeColon:
                    if (b == (byte)':')
                    {
                        EndOfName();
                        i++;
                        continue;
                    }

                    if (b != (byte)' ' && b != (byte)'\t')
                    {
                        _state = State.Body;
                        return;
                    }

                    i++;
                    continue;

                default: // SkipLine: the rest of a field's line
                    int lineEnd = text[i..].IndexOf((byte)'\n');
                    if (lineEnd < 0)
                    {
                        return;
                    }

                    i += lineEnd + 1;
                    _state = State.LineStart;
                    continue;
            }
        }
    }

    private void EndOfName()
    {
        if (_matched == Name.Length && _count < int.MaxValue)
        {
            _count++;
        }

        _state = State.SkipLine;
    }

    /// <summary>RFC 5322 ftext: printable US-ASCII except the colon.</summary>
    private static bool IsNameByte(byte b) => b is >= 33 and <= 126 and not (byte)':';

    private enum State : byte
    {
        /// <summary>The start of the text: a line here must be a field (no continuation yet).</summary>
        FirstLine = 0,

        /// <summary>The start of a line inside the header section.</summary>
        LineStart,

        /// <summary>Inside a field name.</summary>
        FieldName,

        /// <summary>Spaces or tabs after a field name, before its colon.</summary>
        BeforeColon,

        /// <summary>The rest of a field line, up to its LF.</summary>
        SkipLine,

        /// <summary>The header section has ended.</summary>
        Body,
    }
}
