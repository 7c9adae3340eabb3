using AbilisFast.Server.Configuration;

namespace AbilisFast.Server.Submission;

/// <summary>
/// <c>abilisfast sendmail [-f FROM] [--wdir DIR] [-i] TO... &lt; message</c>: hands a message from a
/// local program to the server through WDIR/pickup (see <see cref="PickupDirectory"/>). The running
/// server picks it up within a second; a stopped one at its next start. Exits non-zero with a
/// one-line reason when the message cannot be handed over.
/// </summary>
internal static class SendmailCommand
{
    public const string Usage = "usage: abilisfast sendmail [-f FROM] [--wdir DIR] TO... < message";

    /// <summary>-i, -oi and -- are accepted and mean nothing here: dots are not special, the message is not sent over SMTP.</summary>
    private static readonly ArgumentGrammar Grammar = new ArgumentGrammar()
        .Option("-f", ValueForms.Attached | ValueForms.EmptyAllowed)
        .Option("-r", ValueForms.EmptyAllowed)
        .Option("--wdir", ValueForms.EmptyAllowed)
        .Flag("-i", "-oi", "--");

    public static int Run(IReadOnlyList<string> args, Stream input, TextWriter output, TextWriter error)
    {
        ParsedArguments parsed = Grammar.Parse(args);
        if (parsed.Error is { } unknown)
        {
            error.WriteLine($"abilisfast sendmail: unknown option '{unknown.Argument}'; {Usage}");
            return ExitCodes.Usage;
        }

        // -f and -r are the same option (sendmail's -r is the old name); the last one given counts.
        string? from = parsed.GivenValues.LastOrDefault(v => v.Option is "-f" or "-r").Value.Text;
        bool senderGiven = from is not null;
        string sender = from is null ? string.Empty : Unbracket(from);
        string workDir = parsed.Value("--wdir") ?? ParameterTable.DefaultWorkDir;
        List<string> recipients = [.. parsed.Positionals.SelectMany(p =>
            p.Text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Unbracket))];
        if (recipients.Count == 0)
        {
            error.WriteLine($"abilisfast sendmail: no recipients; {Usage}");
            return ExitCodes.Usage;
        }

        if (AddressSyntax.Check(sender, sender: true) is { } badSender)
        {
            error.WriteLine($"abilisfast sendmail: -f {badSender}");
            return ExitCodes.Usage;
        }

        foreach (string recipient in recipients)
        {
            if (AddressSyntax.Check(recipient, sender: false) is { } bad)
            {
                error.WriteLine($"abilisfast sendmail: {bad}");
                return ExitCodes.Usage;
            }
        }

        using var buffer = new MemoryStream();
        input.CopyTo(buffer);
        if (buffer.Length == 0)
        {
            error.WriteLine("abilisfast sendmail: empty message on standard input");
            return ExitCodes.Usage;
        }

        byte[] message = InternalMail.NormalizeLineEnds(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        try
        {
            string path = PickupDirectory.Write(Path.GetFullPath(workDir), !senderGiven ? string.Empty : sender.Length == 0 ? "<>" : sender, recipients, message);
            output.WriteLine($"abilisfast sendmail: queued {Path.GetFileName(path)} for {recipients.Count} recipient(s) in {Path.GetDirectoryName(path)}");
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"abilisfast sendmail: cannot write to {PickupDirectory.PathIn(Path.GetFullPath(workDir))}: {e.Message}; check WDIR (--wdir DIR) and its permissions");
            return ExitCodes.WorkDirUnusable;
        }
    }

    private static string Unbracket(string address) =>
        address.Length >= 2 && address[0] == '<' && address[^1] == '>' ? address[1..^1] : address;
}
