using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace AbilisFast.Server.Admin;

/// <summary>
/// <c>abilisfast ctl [--user U] [--host H] [--port P] "COMMAND"</c>: logs in to the running
/// server's admin port, runs one console command, prints its output and exits (0, or 1 when the
/// console answered ERROR). The password comes from ABILISFAST_PASSWORD or standard input.
/// </summary>
internal static class ControlCommand
{
    public const string Usage = "usage: abilisfast ctl [--user NAME] [--host ADDR] [--port PORT] \"COMMAND\"  (password in ABILISFAST_PASSWORD or on standard input)";

    private static readonly ArgumentGrammar Grammar = new ArgumentGrammar { OptionPrefix = "--", MaxPositionals = 1 }
        .Option("--user", ValueForms.EmptyAllowed)
        .Option("--host", ValueForms.EmptyAllowed)
        .Option("--port", ValueForms.EmptyAllowed, IsPort);

    private static bool IsPort(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65536;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextReader input, TextWriter output, TextWriter error)
    {
        ParsedArguments parsed = Grammar.Parse(args);
        if (parsed.Error is { } bad)
        {
            error.WriteLine($"abilisfast: unexpected argument '{bad.Argument}'; {Usage}");
            return ExitCodes.Usage;
        }

        string user = parsed.Value("--user") ?? "admin";
        string host = parsed.Value("--host") ?? "127.0.0.1";
        int port = parsed.Value("--port") is { } portText ? int.Parse(portText, NumberStyles.None, CultureInfo.InvariantCulture) : 2323;
        string? command = parsed.Positionals.Count > 0 ? parsed.Positionals[0].Text : null;
        if (command is null)
        {
            error.WriteLine($"abilisfast: {Usage}");
            return ExitCodes.Usage;
        }

        string? password = Environment.GetEnvironmentVariable("ABILISFAST_PASSWORD") ?? input.ReadLine();
        if (string.IsNullOrEmpty(password))
        {
            error.WriteLine("abilisfast: no password (set ABILISFAST_PASSWORD or give it on standard input)");
            return ExitCodes.Usage;
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
            NetworkStream stream = client.GetStream();
            var received = new StringBuilder();
            await ReadUntilAsync(stream, received, s => s.EndsWith("Login:", StringComparison.Ordinal), cts.Token).ConfigureAwait(false);
            await SendAsync(stream, user, cts.Token).ConfigureAwait(false);
            await ReadUntilAsync(stream, received, s => s.EndsWith("Password:", StringComparison.Ordinal), cts.Token).ConfigureAwait(false);
            await SendAsync(stream, password, cts.Token).ConfigureAwait(false);
            string reply = await ReadUntilAsync(stream, received,
                s => s.EndsWith("Login:", StringComparison.Ordinal) || PromptStart(s) >= 0, cts.Token).ConfigureAwait(false);
            if (PromptStart(reply) < 0)
            {
                error.WriteLine($"abilisfast: login as '{user}' on {host}:{port} refused");
                return ExitCodes.LoginFailed;
            }

            await SendAsync(stream, command, cts.Token).ConfigureAwait(false);
            string result = await ReadUntilAsync(stream, received, s => PromptStart(s) >= 0, cts.Token).ConfigureAwait(false);
            result = WithoutPrompt(result);
            await SendAsync(stream, "quit", cts.Token).ConfigureAwait(false);
            output.Write(result.Replace("\r\n", "\n", StringComparison.Ordinal));
            return result.TrimStart().StartsWith("ERROR:", StringComparison.Ordinal) ? ExitCodes.CommandFailed : ExitCodes.Ok;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            error.WriteLine($"abilisfast: cannot talk to the admin port {host}:{port} ({e.Message}); is the server running with ADMIN-PORT:{port}?");
            return ExitCodes.Unreachable;
        }
    }

    private static async Task SendAsync(Stream stream, string line, CancellationToken token) =>
        await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\r\n"), token).ConfigureAwait(false);

    /// <summary>
    /// Where the console's prompt (<c>[hh:mm:ss] user@host:</c>) starts when <paramref name="text"/>
    /// ends with one (a final line feed aside), or -1: a clock in brackets and a space on the last
    /// line, and a colon at its end.
    /// </summary>
    internal static int PromptStart(string text)
    {
        const int Clock = 11; // "[hh:mm:ss] "
        int end = text.EndsWith('\n') ? text.Length - 1 : text.Length;
        if (end == 0 || text[end - 1] != ':')
        {
            return -1;
        }

        for (int i = text.AsSpan(0, end).LastIndexOfAny('\r', '\n') + 1; i + Clock < end; i++)
        {
            ReadOnlySpan<char> c = text.AsSpan(i, Clock);
            if (c[0] == '[' && char.IsAsciiDigit(c[1]) && char.IsAsciiDigit(c[2]) && c[3] == ':' && char.IsAsciiDigit(c[4])
                && char.IsAsciiDigit(c[5]) && c[6] == ':' && char.IsAsciiDigit(c[7]) && char.IsAsciiDigit(c[8]) && c[9] == ']' && c[10] == ' ')
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The text without the prompt it ends with (its final line feed, if any, stays).</summary>
    internal static string WithoutPrompt(string text)
    {
        int start = PromptStart(text);
        return start < 0 ? text : text.Remove(start, text.Length - start - (text.EndsWith('\n') ? 1 : 0));
    }

    /// <summary>Reads until the text received since the last call satisfies <paramref name="done"/>; returns that text.</summary>
    private static async Task<string> ReadUntilAsync(Stream stream, StringBuilder received, Func<string, bool> done, CancellationToken token)
    {
        byte[] buffer = new byte[4096];
        while (!done(received.ToString()))
        {
            int n = await stream.ReadAsync(buffer, token).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException("the admin port closed the connection");
            }

            received.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }

        string text = received.ToString();
        received.Clear();
        return text;
    }
}
