namespace AbilisFast.Server.Configuration;

/// <summary>One SMTP parameter as Abilis names it, with its kind, default and meaning.</summary>
internal sealed class ParameterDefinition
{
    public ParameterDefinition(
        string name,
        ParameterKind kind,
        string defaultText,
        string allowed,
        bool live,
        string meaning,
        long min = 0,
        long max = 0,
        string[]? choices = null,
        bool allowEmpty = false)
    {
        Name = name;
        Kind = kind;
        DefaultText = defaultText;
        Allowed = allowed;
        Live = live;
        Meaning = meaning;
        Min = min;
        Max = max;
        Choices = choices ?? [];
        AllowEmpty = allowEmpty;
    }

    /// <summary>Upper-case name as Abilis spells it, e.g. <c>TCP-LOCPORT</c>.</summary>
    public string Name { get; }

    public ParameterKind Kind { get; }

    /// <summary>The built-in default, in the same text form the file uses.</summary>
    public string DefaultText { get; }

    /// <summary>What values are allowed, for error messages and help.</summary>
    public string Allowed { get; }

    /// <summary>True when a change takes effect at run time; false when it needs a restart.</summary>
    public bool Live { get; }

    public bool RequiresRestart => !Live;

    /// <summary>One line: what the parameter does.</summary>
    public string Meaning { get; }

    /// <summary>Range of <see cref="ParameterKind.Int"/> and <see cref="ParameterKind.Port"/>.</summary>
    public long Min { get; }

    public long Max { get; }

    /// <summary>Allowed words of <see cref="ParameterKind.Enum"/>, upper case.</summary>
    public IReadOnlyList<string> Choices { get; }

    /// <summary>For <see cref="ParameterKind.Path"/> and <see cref="ParameterKind.Text"/>: empty is allowed.</summary>
    public bool AllowEmpty { get; }

    public override string ToString() => $"{Name}:{DefaultText}";
}
