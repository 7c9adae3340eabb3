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
        while (i < text.Length && _state != State.Body)
        {
            i += _state switch
            {
                State.FirstLine or State.LineStart => AtLineStart(text[i]),
                State.FieldName => InFieldName(text[i]),
                State.BeforeColon => BeforeColon(text[i]),
                _ => SkipLine(text[i..]),
            };
        }
    }

    /// <summary>
    /// The first byte of a line: a field name starts (nothing taken: the byte is the name's first), a
    /// space or tab starts a continuation line, anything else (the empty line too) starts the body.
    /// </summary>
    private int AtLineStart(byte b)
    {
        if (IsNameByte(b))
        {
            _matched = 0;
            _state = State.FieldName;
            return 0;
        }

        if ((b == (byte)' ' || b == (byte)'\t') && _state == State.LineStart)
        {
            _state = State.SkipLine;
            return 1;
        }

        _state = State.Body;
        return 0;
    }

    /// <summary>One byte of a field name: matched against "received", up to the colon (or blanks before it).</summary>
    private int InFieldName(byte b)
    {
        if (b == (byte)':')
        {
            EndOfName();
            return 1;
        }

        if (b == (byte)' ' || b == (byte)'\t')
        {
            _state = State.BeforeColon;
            return 1;
        }

        if (!IsNameByte(b))
        {
            _state = State.Body;
            return 0;
        }

        _matched = _matched < Name.Length && (b | 0x20) == Name[_matched] ? (byte)(_matched + 1) : NoMatch;
        return 1;
    }

    /// <summary>Blanks between a field name and its colon (the obsolete syntax of RFC 5322 4.5).</summary>
    private int BeforeColon(byte b)
    {
        if (b == (byte)':')
        {
            EndOfName();
            return 1;
        }

        if (b != (byte)' ' && b != (byte)'\t')
        {
            _state = State.Body;
            return 0;
        }

        return 1;
    }

    /// <summary>The rest of a field's line: everything up to and including its LF.</summary>
    private int SkipLine(ReadOnlySpan<byte> rest)
    {
        int lineEnd = rest.IndexOf((byte)'\n');
        if (lineEnd < 0)
        {
            return rest.Length;
        }

        _state = State.LineStart;
        return lineEnd + 1;
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
