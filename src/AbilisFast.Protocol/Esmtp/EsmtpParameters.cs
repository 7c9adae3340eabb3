namespace AbilisFast.Protocol.Esmtp;

/// <summary>Value helpers for MAIL / RCPT parameters.</summary>
internal static class EsmtpParameters
{
    /// <summary>SIZE value (RFC 1870): decimal digits only, no sign, no overflow of <see cref="long"/>.</summary>
    public static bool TryParseSize(ReadOnlySpan<byte> value, out long size)
    {
        size = 0;
        if (value.IsEmpty)
        {
            return false;
        }

        long result = 0;
        foreach (byte c in value)
        {
            int digit = c - '0';
            if ((uint)digit > 9 || result > (long.MaxValue - digit) / 10)
            {
                return false;
            }

            result = (result * 10) + digit;
        }

        size = result;
        return true;
    }

    /// <summary>
    /// xtext (RFC 3461 4): xchar = %d33-126 except '+' and '=', hexchar = "+" 2(DIGIT / "A"-"F") (uppercase only).
    /// </summary>
    public static bool IsValidXtext(ReadOnlySpan<byte> value)
    {
        for (int i = 0; i < value.Length; i++)
        {
            byte c = value[i];
            if (c == (byte)'+')
            {
                if (i + 2 >= value.Length || !IsUpperHex(value[i + 1]) || !IsUpperHex(value[i + 2]))
                {
                    return false;
                }

                i += 2;
            }
            else if (c < 33 || c > 126 || c == (byte)'=')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsUpperHex(byte c) => c is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'A' and <= (byte)'F');
}
