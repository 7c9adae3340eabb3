namespace AbilisFast.Protocol.Esmtp;

/// <summary>
/// The parameters of one RCPT TO command and their parser: NOTIFY and ORCPT (RFC 3461 4.1, 4.2),
/// each at most once. Spans point into the parsed text; nothing is allocated.
/// </summary>
internal readonly ref struct RcptParameters
{
    /// <summary>RFC 3461 4.2: ORCPT is at most 500 characters.</summary>
    public const int MaxOriginalRecipientLength = 500;

    /// <summary>NOTIFY=, <see cref="DsnNotify.None"/> when not given.</summary>
    public DsnNotify Notify { get; init; }

    /// <summary>ORCPT= as the client wrote it (addr-type ";" xtext), empty when not given.</summary>
    public ReadOnlySpan<byte> OriginalRecipient { get; init; }

    /// <summary>Parses <paramref name="parameters"/> (the text after the forward-path).</summary>
    public static ParameterStatus Parse(ReadOnlySpan<byte> parameters, out RcptParameters result)
    {
        result = default;
        DsnNotify notify = DsnNotify.None;
        ReadOnlySpan<byte> originalRecipient = default;
        var enumerator = new EsmtpParameterEnumerator(parameters);
        while (enumerator.MoveNext())
        {
            EsmtpParameter p = enumerator.Current;
            if (p.Is("NOTIFY"u8) && p.HasValue && notify == DsnNotify.None)
            {
                if (!TryParseNotify(p.Value, out notify))
                {
                    return ParameterStatus.BadDsn;
                }
            }
            else if (p.Is("ORCPT"u8) && p.HasValue && originalRecipient.IsEmpty)
            {
                if (!IsValidOriginalRecipient(p.Value))
                {
                    return ParameterStatus.BadDsn;
                }

                originalRecipient = p.Value;
            }
            else
            {
                return ParameterStatus.Unsupported;
            }
        }

        if (enumerator.Malformed)
        {
            return ParameterStatus.Unsupported;
        }

        result = new RcptParameters { Notify = notify, OriginalRecipient = originalRecipient };
        return ParameterStatus.Ok;
    }

    /// <summary>RFC 3461 4.1: NEVER alone, or a comma list of SUCCESS, FAILURE, DELAY (each once).</summary>
    public static bool TryParseNotify(ReadOnlySpan<byte> value, out DsnNotify notify)
    {
        notify = DsnNotify.None;
        if (System.Text.Ascii.EqualsIgnoreCase(value, "NEVER"u8))
        {
            notify = DsnNotify.Never;
            return true;
        }

        foreach (Range range in value.Split((byte)','))
        {
            ReadOnlySpan<byte> item = value[range];
            DsnNotify flag = System.Text.Ascii.EqualsIgnoreCase(item, "SUCCESS"u8) ? DsnNotify.Success
                : System.Text.Ascii.EqualsIgnoreCase(item, "FAILURE"u8) ? DsnNotify.Failure
                : System.Text.Ascii.EqualsIgnoreCase(item, "DELAY"u8) ? DsnNotify.Delay
                : DsnNotify.None;
            if (flag == DsnNotify.None || (notify & flag) != 0)
            {
                notify = DsnNotify.None;
                return false;
            }

            notify |= flag;
        }

        return notify != DsnNotify.None;
    }

    /// <summary>RFC 3461 4.2: addr-type ";" xtext, at most 500 characters; addr-type is an atom (rfc822, utf-8, ...).</summary>
    public static bool IsValidOriginalRecipient(ReadOnlySpan<byte> value)
    {
        int semicolon = value.IndexOf((byte)';');
        if (value.Length > MaxOriginalRecipientLength || semicolon <= 0)
        {
            return false;
        }

        foreach (byte c in value[..semicolon])
        {
            if (!(char.IsAsciiLetterOrDigit((char)c) || c == (byte)'-'))
            {
                return false;
            }
        }

        return EsmtpParameters.IsValidXtext(value[(semicolon + 1)..]);
    }
}
