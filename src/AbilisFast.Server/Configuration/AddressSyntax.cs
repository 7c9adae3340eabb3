using System.Text;
using AbilisFast.Protocol.Addressing;

namespace AbilisFast.Server.Configuration;

/// <summary>
/// A mail address given as text (a parameter such as ALERT-TO, a console or command-line argument,
/// an internal mail's sender or recipient), checked with the SMTP path parser.
/// </summary>
internal static class AddressSyntax
{
    /// <summary>
    /// Checks <paramref name="address"/> the way RCPT TO / MAIL FROM would (without angle brackets);
    /// returns the error text or null. An empty sender is the null reverse path.
    /// </summary>
    public static string? Check(string address, bool sender)
    {
        if (sender && address.Length == 0)
        {
            return null;
        }

        byte[] path = Encoding.UTF8.GetBytes("<" + address + ">");
        PathStatus status = PathParser.TryParse(path, sender ? PathKind.Reverse : PathKind.Forward, out ParsedPath parsed);
        if (status != PathStatus.Ok || parsed.Parameters(path).Length != 0)
        {
            return $"'{address}' is not a valid mail address";
        }

        return null;
    }
}
