using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;

namespace AbilisFast.Server.Recipients;

/// <summary>
/// Names of mailbox folders under WDIR/mailboxes and the canonical form of local parts.
/// A user's folder is the user name in lower case. Where a folder is made for a name that is not
/// a user (<c>LOCAL-RCPT:ANY</c>, internal mail to an unknown name), the name is escaped so that
/// two different local parts can never share a folder: lower case, then every character other
/// than <c>a-z 0-9 - _ . + =</c>, non-ASCII letters and digits (kept as UTF-8), and a leading dot
/// as <c>%XX</c> per UTF-8 byte; a name whose escaped form would be longer than
/// <see cref="MaxLength"/> bytes is <c>~</c> and the SHA-256 of its lower-case UTF-8 bytes in hex.
/// '%' and '~' only ever appear in escaped names, so the mapping is one-to-one (up to letter
/// case, which local parts here ignore) and never yields a user's name for a different local part:
/// <c>"a/b"@</c> is <c>a%2Fb</c>, <c>a_b@</c> is <c>a_b</c>, <c>Müller@</c> is <c>müller</c>.
/// </summary>
internal static class MailboxFolder
{
    /// <summary>Longest escaped name in UTF-8 bytes; longer ones are hashed (~ and 64 hex digits).</summary>
    public const int MaxLength = 200;

    /// <summary>The folder of a user (names are 1..32 of a-z A-Z 0-9 - _ .): the name in lower case, a leading dot escaped.</summary>
    public static string ForUser(string name) => For(name);

    /// <summary>The escaped folder name of a canonical local part (see the class summary).</summary>
    public static string For(ReadOnlySpan<char> canonical)
    {
        Span<byte> folder = stackalloc byte[MaxLength];
        int length = Format(canonical, folder);
        return Encoding.UTF8.GetString(folder[..length]);
    }

    /// <summary>
    /// Writes the escaped folder name of <paramref name="canonical"/> into <paramref name="destination"/>
    /// (at least <see cref="MaxLength"/> bytes) in UTF-8 and returns its length. Allocates nothing.
    /// </summary>
    public static int Format(ReadOnlySpan<char> canonical, Span<byte> destination)
    {
        int n = 0;
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune rune in canonical.EnumerateRunes())
        {
            Rune lower = Rune.ToLowerInvariant(rune);
            if (lower.IsAscii && IsKept((char)lower.Value, first: n == 0))
            {
                if (n + 1 > MaxLength)
                {
                    return Hash(canonical, destination);
                }

                destination[n++] = (byte)lower.Value;
                continue;
            }

            int bytes = lower.EncodeToUtf8(utf8);
            if (!lower.IsAscii && Rune.IsLetterOrDigit(lower))
            {
                if (n + bytes > MaxLength)
                {
                    return Hash(canonical, destination);
                }

                utf8[..bytes].CopyTo(destination[n..]);
                n += bytes;
                continue;
            }

            if (n + (3 * bytes) > MaxLength)
            {
                return Hash(canonical, destination);
            }

            foreach (byte b in utf8[..bytes])
            {
                destination[n++] = (byte)'%';
                destination[n++] = (byte)"0123456789ABCDEF"[b >> 4];
                destination[n++] = (byte)"0123456789ABCDEF"[b & 0xF];
            }
        }

        if (n == 0)
        {
            // The empty local part ("" quoted): '%' alone is no escape sequence, so no other name gives it.
            destination[n++] = (byte)'%';
        }

        return n;
    }

    /// <summary>
    /// True for a name this server could have made (or a user's): not empty, at most
    /// <see cref="MaxLength"/> UTF-8 bytes, no '/' or '\\', no control or white-space character,
    /// not starting with '.'. Delivery checks the folder taken from a stored envelope with it
    /// before it touches the disk.
    /// </summary>
    public static bool IsValid(ReadOnlySpan<char> folder)
    {
        if (folder.IsEmpty || Encoding.UTF8.GetByteCount(folder) > MaxLength || folder[0] == '.')
        {
            return false;
        }

        foreach (char c in folder)
        {
            if (c is '/' or '\\' || char.IsControl(c) || char.IsWhiteSpace(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The canonical form of a local part as RCPT TO carries it: a quoted string loses its quotes
    /// and backslashes (<c>"bob"</c> is <c>bob</c>, RFC 5321 2.4), UTF-8 decoded into
    /// <paramref name="destination"/> (as many chars as bytes suffice). Returns the length.
    /// </summary>
    public static int Canonicalize(ReadOnlySpan<byte> localPart, Span<char> destination)
    {
        Span<byte> plain = localPart.Length <= 512 ? stackalloc byte[localPart.Length] : new byte[localPart.Length];
        int n = 0;
        if (localPart.Length >= 2 && localPart[0] == (byte)'"' && localPart[^1] == (byte)'"')
        {
            ReadOnlySpan<byte> inner = localPart[1..^1];
            for (int i = 0; i < inner.Length; i++)
            {
                if (inner[i] == (byte)'\\' && i + 1 < inner.Length)
                {
                    i++;
                }

                plain[n++] = inner[i];
            }
        }
        else
        {
            localPart.CopyTo(plain);
            n = localPart.Length;
        }

        _ = Utf8.ToUtf16(plain[..n], destination, out _, out int written, replaceInvalidSequences: true);
        return written;
    }

    /// <summary>The part before the first delimiter character (at index 1 or later), or the whole name.</summary>
    public static ReadOnlySpan<char> WithoutExtension(ReadOnlySpan<char> canonical, string delimiters)
    {
        if (delimiters.Length == 0)
        {
            return canonical;
        }

        int at = canonical.IndexOfAny(delimiters);
        return at > 0 ? canonical[..at] : canonical;
    }

    private static bool IsKept(char c, bool first) =>
        char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '+' or '=' || (c == '.' && !first);

    private static int Hash(ReadOnlySpan<char> canonical, Span<byte> destination)
    {
        // Lower case first, as for escaped names: BOB...@ and bob...@ are the same mailbox.
        Span<char> lower = canonical.Length <= 512 ? stackalloc char[canonical.Length] : new char[canonical.Length];
        _ = canonical.ToLowerInvariant(lower);
        int maxBytes = Encoding.UTF8.GetMaxByteCount(lower.Length);
        Span<byte> utf8 = maxBytes <= 2048 ? stackalloc byte[maxBytes] : new byte[maxBytes];
        int length = Encoding.UTF8.GetBytes(lower, utf8);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], digest);
        destination[0] = (byte)'~';
        for (int i = 0; i < digest.Length; i++)
        {
            destination[1 + (2 * i)] = (byte)"0123456789abcdef"[digest[i] >> 4];
            destination[2 + (2 * i)] = (byte)"0123456789abcdef"[digest[i] & 0xF];
        }

        return 1 + (2 * digest.Length);
    }
}
