using System.Text;

namespace AbilisFast.Protocol.Esmtp;

/// <summary>The argument of BDAT (RFC 3030 2): chunk-size [ SP "LAST" ].</summary>
internal static class BdatArgument
{
    /// <summary>Reads the chunk size and whether LAST was given; false when the argument is not of that form.</summary>
    public static bool TryParse(ReadOnlySpan<byte> argument, out long size, out bool last)
    {
        last = false;
        int space = argument.IndexOf((byte)' ');
        ReadOnlySpan<byte> digits = space < 0 ? argument : argument[..space];
        if (!EsmtpParameters.TryParseSize(digits, out size))
        {
            return false;
        }

        if (space < 0)
        {
            return true;
        }

        last = Ascii.EqualsIgnoreCase(argument[(space + 1)..].TrimEnd((byte)' '), "LAST"u8);
        return last;
    }
}
