namespace AbilisFast.Server.Configuration;

/// <summary>
/// <c>abilisfast [--config FILE] [--wdir DIR] [NAME:VALUE ...]</c>, <c>--help</c>/<c>-h</c>,
/// <c>--version</c>, <c>--sample-config</c>, <c>--check-config</c>, or <c>abilisfast SUBCOMMAND ARGS...</c> when the first argument is a word
/// that is not an option and holds no ':'. Options also take the <c>--config=FILE</c> form.
/// Arguments are numbered from 1 in error messages ("argument 3").
/// </summary>
internal static class CommandLine
{
    private static readonly ArgumentGrammar Grammar = new ArgumentGrammar
    {
        CheckPositional = arg => arg.IndexOf(':') > 0 ? null : "is not NAME:VALUE",
    }
        .Flag("--help", "-h")
        .Flag("--version")
        .Flag("--sample-config")
        .Flag("--check-config")
        .Option("--config", ValueForms.EqualsSign)
        .Option("--wdir", ValueForms.EqualsSign);

    /// <summary>
    /// Parses the command line of a program started under the name <paramref name="invokedAs"/>
    /// (its argv[0]): under the name <c>sendmail</c> (a symbolic link to the executable, as
    /// /usr/sbin/sendmail) every argument is one of <c>abilisfast sendmail</c>.
    /// </summary>
    public static CommandLineResult Parse(string[] args, string? invokedAs) =>
        IsSendmailName(invokedAs) ? new CommandLineResult { Subcommand = "sendmail", SubcommandArgs = args } : Parse(args);

    /// <summary>Whether argv[0] names <c>sendmail</c> (any folder).</summary>
    public static bool IsSendmailName(string? invokedAs) =>
        invokedAs is not null && Path.GetFileName(invokedAs) == "sendmail";

    /// <summary>
    /// argv[0] as the program was started (a symbolic link's own name, not its target's): the first
    /// string of /proc/self/cmdline on Linux, else what the runtime reports.
    /// </summary>
    public static string? ProgramName()
    {
        try
        {
            byte[] cmdline = File.ReadAllBytes("/proc/self/cmdline");
            int end = Array.IndexOf(cmdline, (byte)0);
            return System.Text.Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string[] args = Environment.GetCommandLineArgs();
            return args.Length > 0 ? args[0] : null;
        }
    }

    public static CommandLineResult Parse(string[] args)
    {
        if (args.Length > 0 && !args[0].StartsWith('-') && !args[0].Contains(':'))
        {
            return new CommandLineResult { Subcommand = args[0], SubcommandArgs = args[1..] };
        }

        ParsedArguments parsed = Grammar.Parse(args);
        if (parsed.Error is { } error)
        {
            throw new ConfigurationException(error.Kind switch
            {
                ArgumentErrorKind.MissingValue => $"argument {error.Number}: {error.Detail} needs a value (see --help)",
                ArgumentErrorKind.BadArgument => $"argument {error.Number}: {error.Argument} {error.Detail} (see --help)",
                _ => $"argument {error.Number}: {error.Argument} is not an option (see --help)",
            });
        }

        // NAME:VALUE arguments and --wdir (as WDIR) override the file in the order given.
        IEnumerable<(int Number, ParameterOverride Override)> overrides = parsed.Positionals
            .Select(p => (p.Number, new ParameterOverride(p.Text[..p.Text.IndexOf(':')], p.Text[(p.Text.IndexOf(':') + 1)..], $"argument {p.Number}")))
            .Concat(parsed.GivenValues.Where(v => v.Option == "--wdir")
                .Select(v => (v.Value.Number, new ParameterOverride(ParameterNames.WDir, v.Value.Text, $"argument {v.Value.Number}"))));
        string? configPath = parsed.Value("--config");
        return new CommandLineResult
        {
            ConfigPath = configPath,
            ConfigSource = configPath is null ? null : $"argument {parsed.NumberOf("--config")}",
            WorkDir = parsed.Value("--wdir"),
            Overrides = [.. overrides.OrderBy(o => o.Number).Select(o => o.Override)],
            Help = parsed.Has("--help"),
            Version = parsed.Has("--version"),
            SampleConfig = parsed.Has("--sample-config"),
            CheckConfig = parsed.Has("--check-config"),
        };
    }
}
