using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace AbilisFast.Protocol.Addressing;

/// <summary>
/// Parser for the Reverse-path / Forward-path of MAIL FROM / RCPT TO (RFC 5321 4.1.2, RFC 6531 3.3).
/// Input is the argument after "FROM:" / "TO:"; leading spaces are skipped.
/// </summary>
internal static partial class PathParser
{
    public const int MaxLocalPartLength = 64;
    public const int MaxDomainLength = 255;
    public const int MaxLabelLength = 63;
    public const int MaxPathLength = 256;

    // atext (RFC 5322) plus every byte >= 0x80 (RFC 6531 UTF8-non-ascii, validated separately).
    private static readonly SearchValues<byte> AtextOrHigh = SearchValues.Create(BuildAtext());

    public static PathStatus TryParse(ReadOnlySpan<byte> arg, PathKind kind, out ParsedPath path)
    {
        path = default;
        PathFlags flags = PathFlags.None;
        int i = arg.IndexOfAnyExcept((byte)' ');
        if (i < 0 || arg[i] != (byte)'<')
        {
            return PathStatus.SyntaxError;
        }

        int open = i++;
        int localStart = i, localLength = 0, domainStart = i, domainLength = 0;
        bool routing = false;
        if (i < arg.Length && arg[i] == (byte)'>')
        {
            if (kind != PathKind.Reverse)
            {
                return PathStatus.SyntaxError;
            }

            flags |= PathFlags.NullPath;
        }
        else
        {
            PathStatus status = ParseMailbox(arg, ref i, kind, ref flags, out localStart, out localLength, out domainStart, out domainLength, out routing);
            if (status != PathStatus.Ok)
            {
                return status;
            }
        }

        PathStatus closing = ParseClosingBracket(arg, ref i, open, out int close);
        if (closing != PathStatus.Ok)
        {
            return closing;
        }

        if ((flags & PathFlags.HasNonAscii) != 0 && CheckNonAscii(arg.Slice(open, close - open + 1)) is var text && text != PathStatus.Ok)
        {
            return text;
        }

        if (routing)
        {
            return PathStatus.RoutingCharacters;
        }

        path = new ParsedPath
        {
            LocalStart = localStart,
            LocalLength = localLength,
            DomainStart = domainStart,
            DomainLength = domainLength,
            ParametersStart = i,
            ParametersLength = arg.Length - i,
            Flags = flags,
        };
        return PathStatus.Ok;
    }

    /// <summary>
    /// The "&gt;" that closes the path (at <paramref name="i"/>), the whole path's length limit, and the
    /// spaces before the parameters; <paramref name="i"/> ends on the first parameter.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static PathStatus ParseClosingBracket(ReadOnlySpan<byte> arg, ref int i, int open, out int close)
    {
        close = i;
        if (i == arg.Length || arg[i] != (byte)'>')
        {
            return PathStatus.SyntaxError;
        }

        i++;
        if (close - open + 1 > MaxPathLength)
        {
            return PathStatus.TooLong;
        }

        if (i < arg.Length && arg[i] != (byte)' ')
        {
            return PathStatus.SyntaxError;
        }

        while (i < arg.Length && arg[i] == (byte)' ')
        {
            i++;
        }

        return PathStatus.Ok;
    }

    /// <summary>A path with bytes over 0x7F: valid UTF-8 (RFC 6531) and none of the unsafe characters.</summary>
    private static PathStatus CheckNonAscii(ReadOnlySpan<byte> bracketed)
    {
        if (!Utf8.IsValid(bracketed))
        {
            return PathStatus.InvalidUtf8;
        }

        // C1 controls, line separators and bidi controls: no address needs them, and they would reach logs and consoles.
        return Lines.UnsafeText.Contains(bracketed) ? PathStatus.SyntaxError : PathStatus.Ok;
    }

    /// <summary>
    /// The mailbox between the brackets: an optional source route (skipped), the local part (at most
    /// 64 octets), then the domain part; whether the local part holds routing characters (% ! @).
    /// </summary>
    private static PathStatus ParseMailbox(ReadOnlySpan<byte> arg, ref int i, PathKind kind, ref PathFlags flags,
        out int localStart, out int localLength, out int domainStart, out int domainLength, out bool routing)
    {
        localStart = localLength = domainStart = domainLength = 0;
        routing = false;
        PathStatus status;
        if (i < arg.Length && arg[i] == (byte)'@')
        {
            status = SkipSourceRoute(arg, ref i, ref flags);
            if (status != PathStatus.Ok)
            {
                return status;
            }

            flags |= PathFlags.SourceRoute;
        }

        localStart = i;
        status = ParseLocalPart(arg, ref i, ref flags, out routing);
        if (status != PathStatus.Ok)
        {
            return status;
        }

        localLength = i - localStart;
        if (localLength > MaxLocalPartLength)
        {
            return PathStatus.TooLong;
        }

        return ParseDomainPart(arg, ref i, kind, localStart, localLength, ref flags, out domainStart, out domainLength);
    }

    /// <summary>
    /// After the local part: the bare postmaster (forward paths only, RFC 5321 4.5.1) or "@" and the
    /// domain or address literal. <paramref name="i"/> ends on the "&gt;" (not checked here).
    /// </summary>
    private static PathStatus ParseDomainPart(ReadOnlySpan<byte> arg, ref int i, PathKind kind, int localStart, int localLength,
        ref PathFlags flags, out int domainStart, out int domainLength)
    {
        domainStart = i;
        domainLength = 0;
        if (i < arg.Length && arg[i] == (byte)'>'
            && (flags & (PathFlags.QuotedLocalPart | PathFlags.SourceRoute)) == 0
            && Ascii.EqualsIgnoreCase(arg.Slice(localStart, localLength), "postmaster"u8))
        {
            if (kind != PathKind.Forward)
            {
                return PathStatus.SyntaxError;
            }

            flags |= PathFlags.Postmaster;
            return PathStatus.Ok;
        }

        if (i == arg.Length || arg[i] != (byte)'@')
        {
            return PathStatus.SyntaxError;
        }

        domainStart = ++i;
        PathStatus status = i < arg.Length && arg[i] == (byte)'['
            ? ParseAddressLiteral(arg, ref i)
            : ParseDomain(arg, ref i, ref flags);
        if (status != PathStatus.Ok)
        {
            return status;
        }

        if (arg[domainStart] == (byte)'[')
        {
            flags |= PathFlags.AddressLiteral;
        }

        domainLength = i - domainStart;
        return PathStatus.Ok;
    }

    // "@" Domain *( "," "@" Domain ) ":" — accepted and ignored.
    private static PathStatus SkipSourceRoute(ReadOnlySpan<byte> arg, ref int i, ref PathFlags flags)
    {
        while (true)
        {
            i++; // '@'
            PathStatus status = ParseDomain(arg, ref i, ref flags);
            if (status != PathStatus.Ok)
            {
                return status;
            }

            if (i == arg.Length)
            {
                return PathStatus.SyntaxError;
            }

            if (arg[i] == (byte)':')
            {
                i++;
                return PathStatus.Ok;
            }

            if (arg[i] != (byte)',' || i + 1 == arg.Length || arg[i + 1] != (byte)'@')
            {
                return PathStatus.SyntaxError;
            }

            i++;
        }
    }

    private static PathStatus ParseLocalPart(ReadOnlySpan<byte> arg, ref int i, ref PathFlags flags, out bool routing)
    {
        if (i < arg.Length && arg[i] == (byte)'"')
        {
            flags |= PathFlags.QuotedLocalPart;
            return ParseQuotedString(arg, ref i, ref flags, out routing);
        }

        return ParseDotString(arg, ref i, ref flags, out routing);
    }

    /// <summary>Quoted-string (RFC 5321 4.1.2) from its opening quote at <paramref name="i"/> to just after its closing one.</summary>
    private static PathStatus ParseQuotedString(ReadOnlySpan<byte> arg, ref int i, ref PathFlags flags, out bool routing)
    {
        routing = false;
        i++;
        while (true)
        {
            if (i == arg.Length)
            {
                return PathStatus.SyntaxError;
            }

            byte c = arg[i++];
            if (c == (byte)'"')
            {
                return PathStatus.Ok;
            }

            if (c == (byte)'\\')
            {
                // quoted-pairSMTP = %d92 %d32-126
                if (i == arg.Length || arg[i] < 32 || arg[i] > 126)
                {
                    return PathStatus.SyntaxError;
                }

                c = arg[i++];
            }
            else if (c >= 0x80)
            {
                flags |= PathFlags.HasNonAscii;
                continue;
            }
            else if (c < 32 || c == 127)
            {
                return PathStatus.SyntaxError;
            }

            if (c is (byte)'@' or (byte)'%' or (byte)'!')
            {
                routing = true;
            }
        }
    }

    /// <summary>Dot-string = Atom *("." Atom), atoms of atext or UTF-8 bytes (RFC 6531).</summary>
    private static PathStatus ParseDotString(ReadOnlySpan<byte> arg, ref int i, ref PathFlags flags, out bool routing)
    {
        routing = false;
        int start = i;
        do
        {
            if (TakeRun(arg, ref i, AtextOrHigh) == 0)
            {
                return PathStatus.SyntaxError;
            }
        }
        while (TakeDot(arg, ref i));

        ReadOnlySpan<byte> local = arg.Slice(start, i - start);
        routing = local.IndexOfAny((byte)'%', (byte)'!') >= 0;
        if (local.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0)
        {
            flags |= PathFlags.HasNonAscii;
        }

        return PathStatus.Ok;
    }

    /// <summary>Steps over the bytes of <paramref name="allowed"/> from <paramref name="i"/>: how many there were.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TakeRun(ReadOnlySpan<byte> arg, ref int i, SearchValues<byte> allowed)
    {
        int start = i;
        int run = arg.Slice(i).IndexOfAnyExcept(allowed);
        i = run < 0 ? arg.Length : i + run;
        return i - start;
    }

    /// <summary>Steps over a '.' at <paramref name="i"/>: whether one stood there (another atom or label follows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TakeDot(ReadOnlySpan<byte> arg, ref int i)
    {
        if (i < arg.Length && arg[i] == (byte)'.')
        {
            i++;
            return true;
        }

        return false;
    }

    private static byte[] BuildAtext()
    {
        var bytes = new List<byte>();
        for (int c = 0; c < 256; c++)
        {
            if (char.IsAsciiLetterOrDigit((char)c) || "!#$%&'*+-/=?^_`{|}~".Contains((char)c) || c >= 0x80)
            {
                bytes.Add((byte)c);
            }
        }

        return bytes.ToArray();
    }
}
