using System.Text;

namespace AbilisFast.Server.Submission;

/// <summary>
/// <c>abilisfast sendmail</c>, also run as a symbolic link named <c>sendmail</c>: the sendmail(1)
/// command line that cron, mail(1)/s-nail, mutt and scripts use (Postfix's options; those that mean
/// nothing here are accepted and ignored as Postfix's sendmail ignores them). The message goes
/// through WDIR/pickup (see <see cref="PickupDirectory"/>): the running server takes it within a
/// second, a stopped one at its next start. Silent on success; otherwise one line on standard
/// error and an exit code from sysexits.h (<see cref="SysExits"/>). docs/sendmail.md describes it.
/// </summary>
internal static class SendmailCommand
{
    public const string Usage = "usage: abilisfast sendmail [-t] [-i] [-f FROM] [-F NAME] [--wdir DIR] [--config FILE] [--] [TO...] < message";

    private const string Name = "abilisfast sendmail";

    /// <summary>
    /// Postfix's sendmail options. Flags -m, -n, -v, -G, -U and options -A, -B, -e, -h, -L, -N, -O,
    /// -p, -R, -V, -X are accepted and ignored; -o takes its letters attached (-oi is -i, -oem,
    /// -odq, -om ... are ignored).
    /// </summary>
    private static readonly ArgumentGrammar Grammar = new ArgumentGrammar { Clustered = true }
        .Flag("-t").Flag("-i").Flag("-v").Flag("-I", "-bi")
        .Flag("-m").Flag("-n").Flag("-G").Flag("-U")
        .Option("-f", ValueForms.EmptyAllowed, null, "-r")
        .Option("-F", ValueForms.EmptyAllowed)
        .Option("-o", ValueForms.EmptyAllowed)
        .Option("-b").Option("-C")
        .Option("-A").Option("-B").Option("-e").Option("-h").Option("-L").Option("-N").Option("-O").Option("-p").Option("-R").Option("-V").Option("-X")
        .Option("--wdir", ValueForms.EqualsSign | ValueForms.EmptyAllowed)
        .Option("--config", ValueForms.EqualsSign);

    /// <summary>Runs the command; the environment (ABILISFAST_CONFIG, ABILISFAST_WDIR, NAME, the login) comes from the process.</summary>
    public static int Run(IReadOnlyList<string> args, Stream input, TextWriter output, TextWriter error) =>
        Run(args, input, output, error, Environment.GetEnvironmentVariable, File.Exists);

    public static int Run(IReadOnlyList<string> args, Stream input, TextWriter output, TextWriter error,
        Func<string, string?> environment, Func<string, bool> fileExists)
    {
        try
        {
            return RunChecked(args, input, output, error, environment, fileExists);
        }
#pragma warning disable CA1031 // whatever else goes wrong is EX_SOFTWARE with its one line, never a stack trace to cron
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Fail(error, SysExits.Software, $"internal error: {e.GetType().Name}: {e.Message}");
        }
    }

    private static int RunChecked(IReadOnlyList<string> args, Stream input, TextWriter output, TextWriter error,
        Func<string, string?> environment, Func<string, bool> fileExists)
    {
        if (Parse(args, environment) is not { } request)
        {
            return Fail(error, SysExits.Usage, UsageError(Grammar.Parse(args)));
        }

        if (request.Refusal is { } refusal)
        {
            return Fail(error, refusal.Code, refusal.Text);
        }

        if (request.Newaliases)
        {
            return SysExits.Ok; // -bi / -I: the server reads WDIR/aliases itself, there is no database to rebuild.
        }

        string workDir;
        try
        {
            (workDir, string source) = SendmailWorkDir.Find(request.WorkDir, request.Config, environment, fileExists);
            if (request.Verbose)
            {
                error.WriteLine($"{Name}: WDIR {workDir} ({source})");
            }
        }
        catch (ConfigurationException e)
        {
            return Fail(error, SysExits.Config, e.Message + "; give WDIR with --wdir DIR");
        }

        byte[] message;
        try
        {
            message = Read(input, request.DotEnds);
        }
        catch (IOException e)
        {
            return Fail(error, SysExits.IoErr, $"cannot read the message on standard input: {e.Message}");
        }

        return Submit(request, workDir, message, output, error);
    }

    /// <summary>The parsed command line, or null when it does not parse (the caller says why).</summary>
    internal static SendmailRequest? Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        if (args.TakeWhile(a => a != "--").Any(a => a.StartsWith("-q", StringComparison.Ordinal)))
        {
            // -q, -q30m, -qR...: a queue run, with or without an interval.
            return new SendmailRequest { Refusal = (SysExits.Usage, "-q is not supported: the server retries deferred mail on its own (console: rel q smtp all)") };
        }

        ParsedArguments parsed = Grammar.Parse(args);
        if (parsed.Error is not null)
        {
            return null;
        }

        string? from = parsed.GivenValues.LastOrDefault(v => v.Option == "-f").Value.Text;
        var request = new SendmailRequest
        {
            ExtractRecipients = parsed.Has("-t"),
            DotEnds = !parsed.Has("-i") && !parsed.GivenValues.Exists(v => v.Option == "-o" && v.Value.Text == "i"),
            Verbose = parsed.Has("-v"),
            Newaliases = parsed.Has("-I") || parsed.Value("-b") == "i",
            Sender = from is null ? null : Unbracket(from),
            FullName = parsed.Value("-F") ?? environment("NAME"),
            WorkDir = parsed.Value("--wdir"),
            Config = parsed.Value("--config") ?? parsed.Value("-C"),
            Recipients = [.. parsed.Positionals.SelectMany(p => AddressList.Parse(p.Text)).Select(Unbracket)],
            Refusal = Unsupported(parsed),
        };
        return request;
    }

    /// <summary>Modes of Postfix's sendmail that this one does not have: -bs, -bp, -bd, -bv ...</summary>
    private static (int Code, string Text)? Unsupported(ParsedArguments parsed)
    {
        if (parsed.Value("-b") is { } mode && mode != "m")
        {
            return mode == "i" ? null : (SysExits.Usage, $"-b{mode} is not supported: only -bm (read a message from standard input, the default) and -bi (nothing to do)");
        }

        return null;
    }

    private static string UsageError(ParsedArguments parsed) => parsed.Error switch
    {
        { Kind: ArgumentErrorKind.MissingValue } e => $"option {e.Argument} needs a value; {Usage}",
        { } e => $"unknown option {e.Argument} (argument {e.Number}); {Usage}",
        _ => Usage,
    };

    private static int Submit(SendmailRequest request, string workDir, byte[] message, TextWriter output, TextWriter error)
    {
        if (message.Length == 0)
        {
            return Fail(error, SysExits.DataErr, "empty message on standard input");
        }

        List<HeaderField> fields = MessageHeaders.Fields(message);
        List<string> recipients = request.Recipients;
        if (request.ExtractRecipients)
        {
            recipients = [.. recipients, .. MessageHeaders.Recipients(fields).Select(Unbracket)];
        }

        recipients = [.. recipients.Distinct(StringComparer.OrdinalIgnoreCase)];
        if (recipients.Count == 0)
        {
            return Fail(error, SysExits.Usage, request.ExtractRecipients
                ? "no recipients: none on the command line and none in To:, Cc: or Bcc:"
                : $"no recipients (give them as arguments or use -t); {Usage}");
        }

        string sender = request.Sender ?? string.Empty;
        if (CheckAddress(sender, sender: true) is { } badSender)
        {
            return Fail(error, SysExits.Usage, $"-f {request.Sender}: {badSender}");
        }

        if (recipients.Select(r => (r, CheckAddress(r, sender: false))).FirstOrDefault(c => c.Item2 is not null) is ({ } bad, { } why))
        {
            return Fail(error, SysExits.NoUser, $"recipient {bad}: {why}");
        }

        if (!Directory.Exists(workDir))
        {
            return Fail(error, SysExits.TempFail, $"WDIR {workDir} does not exist (is the server installed? give WDIR with --wdir DIR)");
        }

        return Write(request, workDir, sender, recipients, message, output, error);
    }

    private static int Write(SendmailRequest request, string workDir, string sender, List<string> recipients, byte[] message, TextWriter output, TextWriter error)
    {
        byte[] stored = InternalMail.NormalizeLineEnds(MessageHeaders.WithoutBcc(message));
        var pickup = new PickupFile(
            request.Sender is null ? string.Empty : sender.Length == 0 ? "<>" : sender,
            recipients,
            LoginName(),
            request.FullName);
        try
        {
            string path = PickupDirectory.Write(workDir, pickup, stored);
            if (request.Verbose)
            {
                output.WriteLine($"{Name}: queued {Path.GetFileName(path)} for {recipients.Count} recipient(s) in {Path.GetDirectoryName(path)}");
            }

            return SysExits.Ok;
        }
        catch (UnauthorizedAccessException)
        {
            return Fail(error, SysExits.CantCreat, $"cannot create a file in {PickupDirectory.PathIn(workDir)}: permission denied (is this user in the group of the pickup folder? see docs/sendmail.md)");
        }
        catch (IOException e)
        {
            return Fail(error, SysExits.TempFail, $"cannot write to {PickupDirectory.PathIn(workDir)}: {e.Message}");
        }
    }

    /// <summary>
    /// Standard input; without -i (or -oi) a line holding only a dot ends it, as in every sendmail.
    /// </summary>
    internal static byte[] Read(Stream input, bool dotEnds)
    {
        using var buffer = new MemoryStream();
        input.CopyTo(buffer);
        byte[] all = buffer.ToArray();
        if (!dotEnds)
        {
            return all;
        }

        for (int start = 0; start < all.Length;)
        {
            int lineEnd = Array.IndexOf(all, (byte)'\n', start);
            int next = lineEnd < 0 ? all.Length : lineEnd + 1;
            ReadOnlySpan<byte> line = all.AsSpan(start, next - start).TrimEnd("\r\n"u8);
            if (line.SequenceEqual("."u8))
            {
                return all[..start];
            }

            start = next;
        }

        return all;
    }

    /// <summary>The login name of the user running the command (the default sender's local part), or null.</summary>
    private static string? LoginName()
    {
        try
        {
            string name = Environment.UserName;
            return name.Length > 0 && AddressSyntax.Check(name + "@localhost", sender: true) is null ? name : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// Why an address is not one, or null. A bare name (<c>root</c>) is one: the server completes it
    /// with its origin domain (docs/sendmail.md), so only its local part is checked here.
    /// </summary>
    private static string? CheckAddress(string address, bool sender)
    {
        if (address.Length == 0 || address.Contains('@', StringComparison.Ordinal))
        {
            return AddressSyntax.Check(address, sender);
        }

        return AddressSyntax.Check(address + "@localhost", sender) is null ? null : $"'{address}' is not a valid mail address";
    }

    private static int Fail(TextWriter error, int code, string reason)
    {
        error.WriteLine($"{Name}: {reason}");
        return code;
    }

    private static string Unbracket(string address) =>
        address.Length >= 2 && address[0] == '<' && address[^1] == '>' ? address[1..^1] : address;
}

/// <summary>What a <c>sendmail</c> command line asks for.</summary>
internal sealed class SendmailRequest
{
    /// <summary>-t: recipients also from To, Cc and Bcc.</summary>
    public bool ExtractRecipients { get; init; }

    /// <summary>Without -i / -oi: a line with a lone dot ends the message.</summary>
    public bool DotEnds { get; init; }

    public bool Verbose { get; init; }

    /// <summary>-bi or -I (newaliases): nothing to do.</summary>
    public bool Newaliases { get; init; }

    /// <summary>-f / -r, without angle brackets ("" = the null sender); null = not given (the user's login name).</summary>
    public string? Sender { get; init; }

    /// <summary>-F, else $NAME: the full name for a From: field the message lacks.</summary>
    public string? FullName { get; init; }

    public string? WorkDir { get; init; }

    public string? Config { get; init; }

    /// <summary>The recipients on the command line (after --, or anywhere; several per argument with commas).</summary>
    public List<string> Recipients { get; init; } = [];

    /// <summary>A mode this sendmail does not have (-bs, -bp, -q): its exit code and reason.</summary>
    public (int Code, string Text)? Refusal { get; init; }
}
