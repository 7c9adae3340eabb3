namespace AbilisFast.Server.Sessions;

/// <summary>
/// Watches the header section of a submitted message for <c>Date:</c> and <c>Message-ID:</c>
/// (field names are case-insensitive, RFC 5322 3.6; the obsolete white space before the colon is
/// taken) and finds where the section ends: the empty line before the body. Fed the message bytes
/// as they arrive, in pieces of any size; allocation-free.
/// </summary>
internal struct SubmissionHeaderScan
{
    private int _column;
    private int _nameLength;
    private bool _nameDone;
    private bool _notField;
    private bool _maybeDate;
    private bool _maybeMessageId;

    /// <summary>The empty line that ends the header section has been seen.</summary>
    public bool Ended { get; private set; }

    public bool HasDate { get; private set; }

    public bool HasMessageId { get; private set; }

    /// <summary>True at the start of a line (nothing fed yet, or the last byte fed was LF).</summary>
    public readonly bool AtLineStart => _column == 0;

    public void Reset() => this = default;

    /// <summary>
    /// Scans <paramref name="bytes"/>; returns the offset at which the empty line that ends the header
    /// section starts (its CR or LF), or -1 when the section goes on past these bytes.
    /// </summary>
    public int Feed(ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length && !Ended; i++)
        {
            byte b = bytes[i];
            if (_column == 0)
            {
                if (b is (byte)'\r' or (byte)'\n')
                {
                    Ended = true;
                    return i;
                }

                StartLine(b);
            }

            if (b == (byte)'\n')
            {
                _column = 0;
                continue;
            }

            _column++;
            if (!_notField && _column > 1)
            {
                NameByte(b);
            }
        }

        return -1;
    }

    private void StartLine(byte first)
    {
        // A continuation line (folding white space) belongs to the field before it.
        bool continuation = first is (byte)' ' or (byte)'\t';
        _notField = continuation;
        _nameDone = false;
        _nameLength = 0;
        _maybeDate = !continuation;
        _maybeMessageId = !continuation;
        if (!continuation)
        {
            Match(first);
        }
    }

    private void NameByte(byte b)
    {
        if (b == (byte)':')
        {
            HasDate |= _maybeDate && _nameLength == 4;
            HasMessageId |= _maybeMessageId && _nameLength == 10;
            _notField = true;
            return;
        }

        if (b is (byte)' ' or (byte)'\t')
        {
            _nameDone = true;
            return;
        }

        if (_nameDone)
        {
            _notField = true;
            return;
        }

        Match(b);
    }

    private void Match(byte b)
    {
        byte lower = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
        _maybeDate &= _nameLength < 4 && "date"u8[_nameLength] == lower;
        _maybeMessageId &= _nameLength < 10 && "message-id"u8[_nameLength] == lower;
        _nameLength++;
    }
}
