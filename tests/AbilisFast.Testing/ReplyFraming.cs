using System.Diagnostics.CodeAnalysis;

namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// How both test clients (<see cref="SmtpTestClient"/> on a socket, <see cref="SessionHarness"/> on
/// pipes) cut what they received into lines and lines into replies.
/// </summary>
internal static class ReplyFraming
{
    /// <summary>Takes the first whole line out of <paramref name="pending"/>, without its CR LF; false while no line is whole.</summary>
    public static bool TryTakeLine(StringBuilder pending, [NotNullWhen(true)] out string? line)
    {
        string text = pending.ToString();
        int lf = text.IndexOf('\n', StringComparison.Ordinal);
        if (lf < 0)
        {
            line = null;
            return false;
        }

        pending.Remove(0, lf + 1);
        line = text[..lf].TrimEnd('\r');
        return true;
    }

    /// <summary>
    /// Reads lines up to the last line of one reply ("250-..." lines go on, "250 ..." ends it) and
    /// returns them joined by LF; null when the peer closed before the first line, the lines so
    /// far when it closed in the middle.
    /// </summary>
    public static async Task<string?> ReadReplyAsync(Func<Task<string?>> readLine)
    {
        var reply = new StringBuilder();
        while (true)
        {
            string? line = await readLine();
            if (line is null)
            {
                return reply.Length == 0 ? null : reply.ToString().TrimEnd('\n');
            }

            reply.Append(line).Append('\n');
            if (line.Length < 4 || line[3] != '-')
            {
                return reply.ToString().TrimEnd('\n');
            }
        }
    }
}
