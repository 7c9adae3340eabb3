namespace AbilisFast.Server.Configuration;

/// <summary>
/// <c>abilisfast [--config FILE] [--wdir DIR] [NAME:VALUE ...]</c>, <c>--help</c>/<c>-h</c>,
/// <c>--version</c>, <c>--sample-config</c>, <c>--check-config</c>, or <c>abilisfast SUBCOMMAND ARGS...</c> when the first argument is a word
/// that is not an option and holds no ':'. Options also take the <c>--config=FILE</c> form.
/// Arguments are numbered from 1 in error messages ("argument 3").
/// </summary>
internal static class CommandLine
{
    public static CommandLineResult Parse(string[] args)
    {
        if (args.Length > 0 && !args[0].StartsWith('-') && !args[0].Contains(':'))
        {
            return new CommandLineResult { Subcommand = args[0], SubcommandArgs = args[1..] };
        }

        string? configPath = null;
        string? configSource = null;
        string? workDir = null;
        bool help = false;
        bool version = false;
        bool sampleConfig = false;
        bool checkConfig = false;
        var overrides = new List<ParameterOverride>();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string source = $"argument {i + 1}";
            if (arg is "-h" or "--help")
            {
                help = true;
            }
            else if (arg == "--version")
            {
                version = true;
            }
            else if (arg == "--sample-config")
            {
                sampleConfig = true;
            }
            else if (arg == "--check-config")
            {
                checkConfig = true;
            }
            else if (TryOptionValue(args, ref i, "--config", out string? config))
            {
                configPath = config;
                configSource = source;
            }
            else if (TryOptionValue(args, ref i, "--wdir", out string? dir))
            {
                workDir = dir;
                overrides.Add(new ParameterOverride(ParameterNames.WDir, dir, source));
            }
            else if (arg.StartsWith('-'))
            {
                throw new ConfigurationException($"{source}: {arg} is not an option (see --help)");
            }
            else
            {
                int colon = arg.IndexOf(':');
                if (colon <= 0)
                {
                    throw new ConfigurationException($"{source}: {arg} is not NAME:VALUE (see --help)");
                }

                overrides.Add(new ParameterOverride(arg[..colon], arg[(colon + 1)..], source));
            }
        }

        return new CommandLineResult
        {
            ConfigPath = configPath,
            ConfigSource = configSource,
            WorkDir = workDir,
            Overrides = overrides,
            Help = help,
            Version = version,
            SampleConfig = sampleConfig,
            CheckConfig = checkConfig,
        };
    }

    /// <summary>Matches <c>--name VALUE</c> (advancing <paramref name="i"/>) or <c>--name=VALUE</c>.</summary>
    private static bool TryOptionValue(string[] args, ref int i, string option, out string value)
    {
        value = string.Empty;
        string arg = args[i];
        if (arg == option)
        {
            if (i + 1 >= args.Length || args[i + 1].Length == 0)
            {
                throw new ConfigurationException($"argument {i + 1}: {option} needs a value (see --help)");
            }

            value = args[++i];
            return true;
        }

        if (arg.StartsWith(option + "=", StringComparison.Ordinal))
        {
            value = arg[(option.Length + 1)..];
            if (value.Length == 0)
            {
                throw new ConfigurationException($"argument {i + 1}: {option} needs a value (see --help)");
            }

            return true;
        }

        return false;
    }
}
