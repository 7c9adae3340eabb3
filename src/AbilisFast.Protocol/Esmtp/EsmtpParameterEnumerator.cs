namespace AbilisFast.Protocol.Esmtp;

/// <summary>
/// Enumerates esmtp-params (RFC 5321 4.1.2) separated by spaces:
/// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"), esmtp-value = 1*(%d33-60 / %d62-126).
/// Runs of spaces are tolerated. On the first malformed parameter enumeration stops and
/// <see cref="Malformed"/> becomes true; callers must check it after the loop.
/// </summary>
internal ref struct EsmtpParameterEnumerator
{
    private ReadOnlySpan<byte> _remaining;
    private EsmtpParameter _current;

    public EsmtpParameterEnumerator(ReadOnlySpan<byte> parameters)
    {
        _remaining = parameters;
        _current = default;
        Malformed = false;
    }

    public bool Malformed { get; private set; }

    public readonly EsmtpParameter Current => _current;

    public readonly EsmtpParameterEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (Malformed)
        {
            return false;
        }

        int start = _remaining.IndexOfAnyExcept((byte)' ');
        if (start < 0)
        {
            _remaining = default;
            return false;
        }

        ReadOnlySpan<byte> rest = _remaining.Slice(start);
        int end = rest.IndexOf((byte)' ');
        ReadOnlySpan<byte> token = end < 0 ? rest : rest.Slice(0, end);
        _remaining = end < 0 ? default : rest.Slice(end);

        int eq = token.IndexOf((byte)'=');
        ReadOnlySpan<byte> keyword = eq < 0 ? token : token.Slice(0, eq);
        ReadOnlySpan<byte> value = eq < 0 ? default : token.Slice(eq + 1);

        if (!IsKeyword(keyword) || (eq >= 0 && !IsValue(value)))
        {
            Malformed = true;
            _current = default;
            return false;
        }

        _current = new EsmtpParameter(keyword, value, eq >= 0);
        return true;
    }

    private static bool IsKeyword(ReadOnlySpan<byte> keyword)
    {
        if (keyword.IsEmpty || !char.IsAsciiLetterOrDigit((char)keyword[0]))
        {
            return false;
        }

        foreach (byte c in keyword.Slice(1))
        {
            if (!char.IsAsciiLetterOrDigit((char)c) && c != (byte)'-')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValue(ReadOnlySpan<byte> value)
    {
        // Non-empty, printable US-ASCII except '=' (the token contains no spaces by construction).
        return !value.IsEmpty && value.IndexOfAnyExceptInRange((byte)33, (byte)126) < 0 && !value.Contains((byte)'=');
    }
}
