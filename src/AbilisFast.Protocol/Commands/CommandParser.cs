using System.Buffers.Binary;
using System.Text;

namespace AbilisFast.Protocol.Commands;

/// <summary>
/// Splits a command line into verb and argument. SMTP verbs are four letters (STARTTLS aside):
/// they are read as one little-endian <see cref="uint"/>, case-folded with <c>| 0x20202020</c>
/// once the four bytes are known to be letters, and compared with precomputed constants.
/// </summary>
internal static class CommandParser
{
    private const uint Helo = 'h' | ('e' << 8) | ('l' << 16) | ((uint)'o' << 24);
    private const uint Ehlo = 'e' | ('h' << 8) | ('l' << 16) | ((uint)'o' << 24);
    private const uint Mail = 'm' | ('a' << 8) | ('i' << 16) | ((uint)'l' << 24);
    private const uint Rcpt = 'r' | ('c' << 8) | ('p' << 16) | ((uint)'t' << 24);
    private const uint Data = 'd' | ('a' << 8) | ('t' << 16) | ((uint)'a' << 24);
    private const uint Bdat = 'b' | ('d' << 8) | ('a' << 16) | ((uint)'t' << 24);
    private const uint Rset = 'r' | ('s' << 8) | ('e' << 16) | ((uint)'t' << 24);
    private const uint Noop = 'n' | ('o' << 8) | ('o' << 16) | ((uint)'p' << 24);
    private const uint Quit = 'q' | ('u' << 8) | ('i' << 16) | ((uint)'t' << 24);
    private const uint Vrfy = 'v' | ('r' << 8) | ('f' << 16) | ((uint)'y' << 24);
    private const uint Expn = 'e' | ('x' << 8) | ('p' << 16) | ((uint)'n' << 24);
    private const uint Help = 'h' | ('e' << 8) | ('l' << 16) | ((uint)'p' << 24);
    private const uint Star = 's' | ('t' << 8) | ('a' << 16) | ((uint)'r' << 24);
    private const uint Auth = 'a' | ('u' << 8) | ('t' << 16) | ((uint)'h' << 24);

    /// <summary>
    /// Identifies the verb of <paramref name="line"/> (without CRLF) and returns the argument: the
    /// text after the single space that follows the verb (empty when there is none). A verb must be
    /// followed by a space or the end of the line; <c>MAILX</c> is unknown, not MAIL.
    /// </summary>
    public static SmtpVerb Parse(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> argument)
    {
        argument = default;
        if (line.Length < 4)
        {
            return SmtpVerb.Unknown;
        }

        uint word = BinaryPrimitives.ReadUInt32LittleEndian(line);
        if (!AllLetters(word))
        {
            return SmtpVerb.Unknown;
        }

        word |= 0x20202020u;
        int verbLength = 4;
        SmtpVerb verb = word switch
        {
            Helo => SmtpVerb.Helo,
            Ehlo => SmtpVerb.Ehlo,
            Mail => SmtpVerb.Mail,
            Rcpt => SmtpVerb.Rcpt,
            Data => SmtpVerb.Data,
            Bdat => SmtpVerb.Bdat,
            Rset => SmtpVerb.Rset,
            Noop => SmtpVerb.Noop,
            Quit => SmtpVerb.Quit,
            Vrfy => SmtpVerb.Vrfy,
            Expn => SmtpVerb.Expn,
            Help => SmtpVerb.Help,
            Auth => SmtpVerb.Auth,
            Star => SmtpVerb.StartTls,
            _ => SmtpVerb.Unknown,
        };

        if (verb == SmtpVerb.StartTls)
        {
            if (line.Length < 8 || !Ascii.EqualsIgnoreCase(line.Slice(4, 4), "TTLS"u8))
            {
                return SmtpVerb.Unknown;
            }

            verbLength = 8;
        }

        if (line.Length == verbLength)
        {
            return verb;
        }

        if (line[verbLength] != (byte)' ')
        {
            return SmtpVerb.Unknown;
        }

        argument = line[(verbLength + 1)..];
        return verb;
    }

    /// <summary>True when all four bytes are ASCII letters (so that OR-ing 0x20 folds case safely).</summary>
    private static bool AllLetters(uint word)
    {
        for (int i = 0; i < 4; i++)
        {
            uint b = ((word >> (i * 8)) & 0xFF) | 0x20;
            if (b - 'a' > 'z' - 'a')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Strips a case-insensitive keyword such as <c>FROM:</c> from the start of an argument and the
    /// spaces that follow it. Returns false when the keyword is absent.
    /// </summary>
    public static bool TryStripKeyword(ReadOnlySpan<byte> argument, ReadOnlySpan<byte> keyword, out ReadOnlySpan<byte> rest)
    {
        rest = default;
        if (argument.Length < keyword.Length || !Ascii.EqualsIgnoreCase(argument[..keyword.Length], keyword))
        {
            return false;
        }

        rest = argument[keyword.Length..].TrimStart((byte)' ');
        return true;
    }
}
