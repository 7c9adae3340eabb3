using System.Text;
using AbilisFast.Protocol.Addressing;

namespace AbilisFast.Fuzz;

/// <summary>
/// The path target: the argument of MAIL FROM: (first byte even) or RCPT TO: (odd) through
/// <see cref="PathParser"/>. Checks on an accepted path: its ranges lie inside the argument, the
/// local part is at most 64 octets and the domain at most 255, the mailbox holds no CR, LF or NUL,
/// non-ASCII only when the parser says so (and then well-formed UTF-8), the parameters start at a
/// non-space; and the mailbox written back as <c>&lt;mailbox&gt;</c> parses again to the same
/// mailbox with the same flags (less the source route, which is dropped).
/// </summary>
internal static class PathHarness
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        PathKind kind = (data[0] & 1) == 0 ? PathKind.Reverse : PathKind.Forward;
        ReadOnlySpan<byte> arg = data[1..];
        if (PathParser.TryParse(arg, kind, out ParsedPath path) != PathStatus.Ok)
        {
            return;
        }

        Check(path.LocalStart >= 0 && path.LocalLength >= 0 && path.LocalStart + path.LocalLength <= arg.Length, "local part out of range");
        Check(path.DomainStart >= 0 && path.DomainLength >= 0 && path.DomainStart + path.DomainLength <= arg.Length, "domain out of range");
        Check(path.ParametersStart >= 0 && path.ParametersLength >= 0 && path.ParametersStart + path.ParametersLength <= arg.Length, "parameters out of range");
        Check(path.LocalLength <= PathParser.MaxLocalPartLength, "local part over 64 octets");
        Check(path.DomainLength <= PathParser.MaxDomainLength, "domain over 255 octets");
        Check(path.ParametersLength == 0 || arg[path.ParametersStart] != (byte)' ', "parameters start with a space");
        ReadOnlySpan<byte> mailbox = path.Mailbox(arg);
        Check(mailbox.IndexOfAny((byte)'\r', (byte)'\n', (byte)0) < 0, "CR, LF or NUL in the mailbox");
        bool nonAscii = mailbox.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0;
        // The flag covers the whole path, the dropped source route included (a UTF-8 route still needs SMTPUTF8).
        Check(nonAscii ? path.HasNonAscii : !path.HasNonAscii || path.HadSourceRoute, $"non-ASCII octets in the mailbox: {nonAscii}, flag: {path.HasNonAscii}");
        Check(!nonAscii || System.Text.Unicode.Utf8.IsValid(mailbox), "non-ASCII mailbox that is not UTF-8");
        Check(!path.IsNullPath || (kind == PathKind.Reverse && mailbox.IsEmpty), "null path where not allowed, or not empty");

        if (path.IsNullPath)
        {
            return;
        }

        byte[] again = [(byte)'<', .. mailbox, (byte)'>'];
        PathStatus status = PathParser.TryParse(again, kind, out ParsedPath reparsed);
        Check(status == PathStatus.Ok, $"<{Encoding.Latin1.GetString(mailbox)}> does not parse again ({status})");
        Check(reparsed.Mailbox(again).SequenceEqual(mailbox), "the mailbox parsed again is another one");
        PathFlags routeFlags = PathFlags.SourceRoute | (path.HadSourceRoute ? PathFlags.HasNonAscii : PathFlags.None);
        Check((reparsed.Flags | routeFlags) == (path.Flags | routeFlags), $"flags {path.Flags} became {reparsed.Flags}");
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(message);
        }
    }
}
