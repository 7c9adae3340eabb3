namespace AbilisFast.Server.Configuration;

/// <summary>
/// The one command-line parser of every <c>abilisfast</c> command (the server's options, <c>user</c>,
/// <c>ctl</c>, <c>sendmail</c>): a command declares its flags, its options with a value and what its
/// other arguments may be, and gets them back with their positions (numbered from 1, as error
/// messages say "argument 3"), or the first argument that does not fit. The wording of an error is
/// the command's own, so each keeps the messages it documents.
/// </summary>
internal sealed class ArgumentGrammar
{
    private readonly Dictionary<string, string> _flags = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ValueOption> _options = new(StringComparer.Ordinal);

    /// <summary>
    /// An argument that starts with this and is no declared flag or option is an unknown option
    /// ("-" for most commands; "--" where a lone "-x" is an ordinary argument).
    /// </summary>
    public string OptionPrefix { get; init; } = "-";

    /// <summary>How many ordinary arguments the command takes (more is an error).</summary>
    public int MaxPositionals { get; init; } = int.MaxValue;

    /// <summary>
    /// POSIX getopt for single-dash arguments (sendmail's way): one-letter flags may be grouped
    /// (<c>-ti</c>), a one-letter option takes the rest of its argument or else the next one
    /// (<c>-fADDR</c>, <c>-f ADDR</c>, <c>-oi</c> is <c>-o</c> with the value <c>i</c>), and <c>--</c>
    /// ends the options: every argument after it is an ordinary one. Long options keep their forms.
    /// </summary>
    public bool Clustered { get; init; }

    /// <summary>Checks an ordinary argument; returns why it does not fit, or null.</summary>
    public Func<string, string?>? CheckPositional { get; init; }

    /// <summary>Declares a flag (with its aliases); it is reported under <paramref name="name"/>.</summary>
    public ArgumentGrammar Flag(string name, params string[] aliases)
    {
        foreach (string alias in (string[])[name, .. aliases])
        {
            _flags[alias] = name;
        }

        return this;
    }

    /// <summary>
    /// Declares an option that takes the next argument as its value (<c>--wdir DIR</c>), reported under
    /// <paramref name="name"/>. <paramref name="form"/> says which other spellings it has.
    /// </summary>
    public ArgumentGrammar Option(string name, ValueForms form = ValueForms.Separate, Func<string, bool>? isValid = null, params string[] aliases)
    {
        foreach (string alias in (string[])[name, .. aliases])
        {
            _options[alias] = new ValueOption(name, form, isValid);
        }

        return this;
    }

    /// <summary>Parses <paramref name="args"/>; the first argument that does not fit ends the parse with an error.</summary>
    public ParsedArguments Parse(IReadOnlyList<string> args)
    {
        var parsed = new ParsedArguments();
        for (int i = 0; i < args.Count; i++)
        {
            if (Clustered && args[i] == "--")
            {
                return Rest(args, i + 1, parsed);
            }

            if (Take(args, ref i, parsed) is { } error)
            {
                parsed.Error = error;
                return parsed;
            }
        }

        return parsed;
    }

    /// <summary>After <c>--</c>: every argument is an ordinary one.</summary>
    private ParsedArguments Rest(IReadOnlyList<string> args, int start, ParsedArguments parsed)
    {
        for (int i = start; i < args.Count; i++)
        {
            if (Positional(args[i], i + 1, parsed) is { } error)
            {
                parsed.Error = error;
                break;
            }
        }

        return parsed;
    }

    /// <summary>A group of one-letter flags and options (<c>-ti</c>, <c>-tfADDR</c>, <c>-tf ADDR</c>).</summary>
    private ArgumentError? TakeCluster(IReadOnlyList<string> args, ref int i, ParsedArguments parsed)
    {
        string arg = args[i];
        int number = i + 1;
        for (int k = 1; k < arg.Length; k++)
        {
            string name = "-" + arg[k];
            if (_flags.TryGetValue(name, out string? flag))
            {
                parsed.Flags.Add(flag);
                continue;
            }

            if (!_options.TryGetValue(name, out ValueOption? option))
            {
                return new ArgumentError(ArgumentErrorKind.UnknownOption, number, name, null);
            }

            string? value = k + 1 < arg.Length ? arg[(k + 1)..] : i + 1 < args.Count ? args[++i] : null;
            if (value is null || (value.Length == 0 && !option.Form.HasFlag(ValueForms.EmptyAllowed)) || !option.Accepts(value))
            {
                return new ArgumentError(ArgumentErrorKind.MissingValue, number, name, option.Name);
            }

            parsed.Set(option.Name, value, number);
            return null;
        }

        return null;
    }

    /// <summary>Takes the argument at <paramref name="i"/> (and its value, advancing <paramref name="i"/>).</summary>
    private ArgumentError? Take(IReadOnlyList<string> args, ref int i, ParsedArguments parsed)
    {
        string arg = args[i];
        int number = i + 1;
        if (_flags.TryGetValue(arg, out string? flag))
        {
            parsed.Flags.Add(flag);
            return null;
        }

        if (_options.TryGetValue(arg, out ValueOption? option))
        {
            bool present = i + 1 < args.Count && (option.Form.HasFlag(ValueForms.EmptyAllowed) || args[i + 1].Length > 0);
            if (!present || !option.Accepts(args[i + 1]))
            {
                return new ArgumentError(ArgumentErrorKind.MissingValue, number, arg, option.Name);
            }

            parsed.Set(option.Name, args[++i], number);
            return null;
        }

        if (Clustered && arg.Length > 1 && arg[0] == '-' && arg[1] != '-')
        {
            return TakeCluster(args, ref i, parsed);
        }

        if (Attached(arg) is var (attached, value))
        {
            if (value.Length == 0 || !attached.Accepts(value))
            {
                return new ArgumentError(ArgumentErrorKind.MissingValue, number, arg, attached.Name);
            }

            parsed.Set(attached.Name, value, number);
            return null;
        }

        if (arg.StartsWith(OptionPrefix, StringComparison.Ordinal))
        {
            return new ArgumentError(ArgumentErrorKind.UnknownOption, number, arg, null);
        }

        return Positional(arg, number, parsed);
    }

    private ArgumentError? Positional(string arg, int number, ParsedArguments parsed)
    {
        if (parsed.Positionals.Count >= MaxPositionals)
        {
            return new ArgumentError(ArgumentErrorKind.ExtraArgument, number, arg, null);
        }

        if (CheckPositional?.Invoke(arg) is { } reason)
        {
            return new ArgumentError(ArgumentErrorKind.BadArgument, number, arg, reason);
        }

        parsed.Positionals.Add(new ParsedArgument(arg, number));
        return null;
    }

    /// <summary><c>--name=VALUE</c> or <c>-fVALUE</c> for an option that allows that spelling.</summary>
    private (ValueOption Option, string Value)? Attached(string arg)
    {
        foreach ((string alias, ValueOption option) in _options)
        {
            if (option.Form.HasFlag(ValueForms.EqualsSign) && arg.StartsWith(alias + "=", StringComparison.Ordinal))
            {
                return (option, arg[(alias.Length + 1)..]);
            }

            if (option.Form.HasFlag(ValueForms.Attached) && arg.Length > alias.Length && arg.StartsWith(alias, StringComparison.Ordinal))
            {
                return (option, arg[alias.Length..]);
            }
        }

        return null;
    }

    private sealed record ValueOption(string Name, ValueForms Form, Func<string, bool>? IsValid)
    {
        public bool Accepts(string value) => IsValid?.Invoke(value) ?? true;
    }
}

/// <summary>The spellings an option with a value has besides <c>--name VALUE</c>.</summary>
[Flags]
internal enum ValueForms
{
    Separate = 0,

    /// <summary><c>--name=VALUE</c>.</summary>
    EqualsSign = 1,

    /// <summary><c>-fVALUE</c> (sendmail's way).</summary>
    Attached = 2,

    /// <summary>An empty next argument is a value (otherwise it is a missing value).</summary>
    EmptyAllowed = 4,
}

/// <summary>What kind of argument ended a parse.</summary>
internal enum ArgumentErrorKind
{
    /// <summary>A declared option without its value (or with one its check refused).</summary>
    MissingValue,

    /// <summary>An argument that starts like an option and is none.</summary>
    UnknownOption,

    /// <summary>An ordinary argument more than the command takes.</summary>
    ExtraArgument,

    /// <summary>An ordinary argument the command's check refused; <see cref="ArgumentError.Detail"/> says why.</summary>
    BadArgument,
}

/// <summary>The argument that ended a parse: its kind, its number (from 1), its text, and the option's name or the reason.</summary>
internal sealed record ArgumentError(ArgumentErrorKind Kind, int Number, string Argument, string? Detail);

/// <summary>One ordinary argument and its number (from 1).</summary>
internal readonly record struct ParsedArgument(string Text, int Number);

/// <summary>What <see cref="ArgumentGrammar.Parse"/> found: flags, option values (the last one given wins) and ordinary arguments, or the error.</summary>
internal sealed class ParsedArguments
{
    private readonly Dictionary<string, ParsedArgument> _values = new(StringComparer.Ordinal);

    public HashSet<string> Flags { get; } = new(StringComparer.Ordinal);

    public List<ParsedArgument> Positionals { get; } = [];

    /// <summary>Every option value in the order given (an option given twice appears twice).</summary>
    public List<(string Option, ParsedArgument Value)> GivenValues { get; } = [];

    public ArgumentError? Error { get; set; }

    public bool Has(string flag) => Flags.Contains(flag);

    /// <summary>The value of <paramref name="option"/> (the last given), or null.</summary>
    public string? Value(string option) => _values.TryGetValue(option, out ParsedArgument value) ? value.Text : null;

    /// <summary>The number of the argument that gave <paramref name="option"/> its value (the option itself), or 0.</summary>
    public int NumberOf(string option) => _values.TryGetValue(option, out ParsedArgument value) ? value.Number : 0;

    internal void Set(string option, string value, int number)
    {
        _values[option] = new ParsedArgument(value, number);
        GivenValues.Add((option, new ParsedArgument(value, number)));
    }
}
