namespace AbilisFast.Server.Configuration;

/// <summary>
/// The mutable parameter set: per parameter its current value text and where it came from
/// ("default", "abilisfast.conf:12", "argument 3", later "console"). The file, the command
/// line and the admin console's <c>s p smtp NAME:VALUE</c> all go through <see cref="TrySet"/>.
/// Not thread-safe: the owner serialises changes and publishes <see cref="ToSettings"/> snapshots.
/// </summary>
internal sealed class ParameterStore
{
    public const string DefaultSource = "default";

    /// <summary><c>IPBAN:NAME:VALUE</c> sets an IPBAN parameter where only <c>NAME:VALUE</c> tokens fit (the command line).</summary>
    public const string IpBanPrefix = "IPBAN";

    private readonly Entry[] _entries;
    private int _sequence;

    public ParameterStore()
    {
        _entries = new Entry[ParameterTable.Count];
        for (int i = 0; i < _entries.Length; i++)
        {
            _entries[i] = new Entry(ParameterTable.All[i].DefaultText, DefaultSource, 0);
        }
    }

    public NamedIpLists IpLists { get; } = new();

    /// <summary>
    /// The IPBAN parameters (<c>ipban NAME:VALUE</c> in the file, <c>IPBAN:NAME:VALUE</c> on the
    /// command line, <c>s p ipban NAME:VALUE</c> on the console): what a server starts with.
    /// </summary>
    public IpBanOptions IpBan { get; private set; } = IpBanOptions.Default;

    /// <summary>
    /// Sets one IPBAN parameter; WHITE-LIST may name the lists defined so far. On failure nothing
    /// changes and <paramref name="error"/> is one line, <c>SOURCE: NAME:VALUE is invalid: …</c>.
    /// </summary>
    public bool TrySetIpBan(string name, string value, string source, out string error)
    {
        if (!IpBanParameters.TrySet(IpBan, name, value, IpLists, out IpBanOptions updated, out string reason))
        {
            error = $"{source}: ipban {reason}";
            return false;
        }

        IpBan = updated;
        error = string.Empty;
        return true;
    }

    /// <summary>Replaces the IPBAN parameters (the console changed them in the running server).</summary>
    public void SetIpBan(IpBanOptions options) => IpBan = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>
    /// Sets one parameter after checking its value. On failure nothing changes and
    /// <paramref name="error"/> is one line: <c>SOURCE: NAME:VALUE is invalid: allowed …</c>
    /// (a password value shows as <c>********</c>).
    /// Cross-parameter rules are checked by <see cref="TryValidate"/>, not here.
    /// </summary>
    public bool TrySet(string name, string value, string source, out string error)
    {
        if (name.Equals(IpBanPrefix, StringComparison.OrdinalIgnoreCase))
        {
            int colon = value.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                error = $"{source}: {name}:{value} is invalid: allowed IPBAN:NAME:VALUE with NAME one of {string.Join(", ", IpBanParameters.Names)}";
                return false;
            }

            return TrySetIpBan(value[..colon], value[(colon + 1)..], source, out error);
        }

        if (!ParameterTable.TryFind(name, out int index))
        {
            error = $"{source}: {name}:{value} is not a parameter (see --help)";
            return false;
        }

        ParameterDefinition definition = ParameterTable.All[index];
        if (!ParameterValues.TryNormalize(definition, value, IpLists, out string normalized, out string reason))
        {
            string shown = definition.Kind == ParameterKind.Password ? "********" : value;
            error = $"{source}: {definition.Name}:{shown} is invalid: {reason}";
            return false;
        }

        _entries[index] = new Entry(normalized, source, ++_sequence);
        error = string.Empty;
        return true;
    }

    /// <summary>Defines or replaces a named IP list (the file's <c>iplist NAME: …</c> line).</summary>
    public bool TryDefineIpList(string name, string value, string source, out string error) =>
        IpLists.TryDefine(name, value, source, out error);

    public string GetValue(string name) => _entries[IndexOf(name)].Value;

    public string GetSource(string name) => _entries[IndexOf(name)].Source;

    /// <summary>
    /// <c>NAME:VALUE</c> for every parameter in table order. Passwords show as <c>********</c>
    /// unless <paramref name="revealSecrets"/>; values holding spaces are quoted so that a line
    /// reads back through the file parser.
    /// </summary>
    public IReadOnlyList<string> Format(bool revealSecrets = false)
    {
        var lines = new string[_entries.Length];
        for (int i = 0; i < lines.Length; i++)
        {
            ParameterDefinition definition = ParameterTable.All[i];
            string value = _entries[i].Value;
            if (definition.Kind == ParameterKind.Password && !revealSecrets && value.Length > 0)
            {
                value = "********";
            }

            lines[i] = $"{definition.Name}:{ConfigLineTokenizer.Quote(value)}";
        }

        return lines;
    }

    /// <summary>
    /// Checks rules that involve several parameters: SES-RESERVED-IN + SES-RESERVED-OUT must not
    /// exceed SES-TOT, and at least one channel must take inbound sessions (reserved IN may be 0
    /// only when shared channels remain). The error names the source of the latest change among them.
    /// </summary>
    public bool TryValidate(out string error)
    {
        long total = long.Parse(GetValue(ParameterNames.SesTot), System.Globalization.CultureInfo.InvariantCulture);
        long reservedIn = long.Parse(GetValue(ParameterNames.SesReservedIn), System.Globalization.CultureInfo.InvariantCulture);
        long reservedOut = long.Parse(GetValue(ParameterNames.SesReservedOut), System.Globalization.CultureInfo.InvariantCulture);
        string source = LatestSource(ParameterNames.SesTot, ParameterNames.SesReservedIn, ParameterNames.SesReservedOut);
        string values = $"SES-RESERVED-IN:{reservedIn} SES-RESERVED-OUT:{reservedOut} SES-TOT:{total}";
        if (reservedIn + reservedOut > total)
        {
            error = $"{source}: {values} is invalid: allowed SES-RESERVED-IN + SES-RESERVED-OUT <= SES-TOT";
            return false;
        }

        if (reservedIn == 0 && reservedOut >= total)
        {
            error = $"{source}: {values} is invalid: no channel takes inbound sessions; allowed SES-RESERVED-IN >= 1 or SES-RESERVED-OUT < SES-TOT";
            return false;
        }

        int selectors = ParameterValues.SplitList(GetValue(ParameterNames.DkimSelector)).Length;
        int keys = ParameterValues.SplitList(GetValue(ParameterNames.DkimKeyFile)).Length;
        if (keys != 0 && keys != selectors)
        {
            source = LatestSource(ParameterNames.DkimSelector, ParameterNames.DkimKeyFile);
            error = $"{source}: DKIM-SELECTOR:{GetValue(ParameterNames.DkimSelector)} DKIM-KEY:{GetValue(ParameterNames.DkimKeyFile)} is invalid: " +
                $"{selectors} selector(s) and {keys} key file(s); allowed one key file per selector, in the same order, or DKIM-KEY empty (WDIR/dkim/SELECTOR.key)";
            return false;
        }

        error = string.Empty;
        return true;
    }

    /// <summary>Validates and builds the typed snapshot; throws <see cref="ConfigurationException"/>.</summary>
    public SmtpSettings ToSettings(string? currentDirectory = null)
    {
        if (!TryValidate(out string error))
        {
            throw new ConfigurationException(error);
        }

        return SmtpSettings.Build(this, currentDirectory ?? Environment.CurrentDirectory);
    }

    private static int IndexOf(string name) =>
        ParameterTable.TryFind(name, out int index) ? index : throw new KeyNotFoundException(name);

    private string LatestSource(params ReadOnlySpan<string> names)
    {
        Entry latest = _entries[IndexOf(names[0])];
        foreach (string name in names)
        {
            Entry entry = _entries[IndexOf(name)];
            if (entry.Sequence > latest.Sequence)
            {
                latest = entry;
            }
        }

        return latest.Source;
    }

    private readonly record struct Entry(string Value, string Source, int Sequence);
}
