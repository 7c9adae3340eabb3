namespace AbilisFast.Server.Configuration;

/// <summary>One <c>NAME:VALUE</c> from the command line (or <c>--wdir</c>, as WDIR), with its source.</summary>
internal readonly record struct ParameterOverride(string Name, string Value, string Source);

/// <summary>What <see cref="CommandLine.Parse"/> found.</summary>
internal sealed class CommandLineResult
{
    /// <summary>--config FILE, as given; null = no file (built-in defaults).</summary>
    public string? ConfigPath { get; init; }

    /// <summary>The source of --config (e.g. "argument 2"), for errors about the file.</summary>
    public string? ConfigSource { get; init; }

    /// <summary>The last --wdir DIR, as given (it is also in <see cref="Overrides"/> as WDIR).</summary>
    public string? WorkDir { get; init; }

    /// <summary>Parameter settings in command-line order (later wins), --wdir included as WDIR.</summary>
    public IReadOnlyList<ParameterOverride> Overrides { get; init; } = [];

    public bool Help { get; init; }

    public bool Version { get; init; }

    /// <summary>--sample-config: print the documented sample configuration file (<see cref="Configuration.SampleConfig"/>).</summary>
    public bool SampleConfig { get; init; }

    /// <summary>--check-config: validate the configuration and WDIR, start nothing.</summary>
    public bool CheckConfig { get; init; }

    /// <summary>A leading word such as <c>user</c>, <c>ctl</c> or <c>sendmail</c>; null when none.</summary>
    public string? Subcommand { get; init; }

    /// <summary>Arguments after the subcommand, unparsed.</summary>
    public IReadOnlyList<string> SubcommandArgs { get; init; } = [];
}
