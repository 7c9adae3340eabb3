namespace AbilisFast.Server.Configuration;

/// <summary>
/// The mutable parameter set: per parameter its current value text and where it came from
/// ("default", "abilisfast.conf:12", "argument 3", later "console"). The file and the admin
/// console's <c>s p smtp NAME:VALUE</c> go through <see cref="TrySet"/>, the command line through
/// <see cref="TrySetForThisRun"/>: a command-line value is in force but is not what <c>save conf</c>
/// writes (<see cref="SavedLines"/> keeps the value from the file, or the console, under it).
/// Not thread-safe: the owner serialises changes and publishes <see cref="ToSettings"/> snapshots.
/// </summary>
internal sealed class ParameterStore
{
    public const string DefaultSource = "default";

    /// <summary><c>IPBAN:NAME:VALUE</c> sets an IPBAN parameter where only <c>NAME:VALUE</c> tokens fit (the command line).</summary>
    public const string IpBanPrefix = "IPBAN";

    private readonly ParameterEntry[] _entries;

    /// <summary>Per parameter, the value <c>save conf</c> writes: from the defaults, the file or the console, never the command line.</summary>
    private readonly ParameterEntry[] _kept;
    private int _sequence;

    public ParameterStore()
    {
        _entries = new ParameterEntry[ParameterTable.Count];
        _kept = new ParameterEntry[ParameterTable.Count];
        for (int i = 0; i < _entries.Length; i++)
        {
            _entries[i] = _kept[i] = new ParameterEntry(ParameterTable.All[i].DefaultText, DefaultSource, 0);
        }
    }

    public NamedIpLists IpLists { get; } = new();

    /// <summary>
    /// The IPBAN parameters (<c>ipban NAME:VALUE</c> in the file, <c>IPBAN:NAME:VALUE</c> on the
    /// command line, <c>s p ipban NAME:VALUE</c> on the console): what a server starts with.
    /// </summary>
    public IpBanOptions IpBan { get; private set; } = IpBanOptions.Default;

    /// <summary>The IPBAN parameters <c>save conf</c> writes: <see cref="IpBan"/> without the command line's.</summary>
    public IpBanOptions KeptIpBan { get; private set; } = IpBanOptions.Default;

    /// <summary>
    /// Sets one IPBAN parameter; WHITE-LIST may name the lists defined so far. On failure nothing
    /// changes and <paramref name="error"/> is one line, <c>SOURCE: NAME:VALUE is invalid: …</c>.
    /// </summary>
    public bool TrySetIpBan(string name, string value, string source, out string error) =>
        TrySetIpBan(name, value, source, forThisRun: false, out error);

    private bool TrySetIpBan(string name, string value, string source, bool forThisRun, out string error)
    {
        if (!IpBanParameters.TrySet(IpBan, name, value, IpLists, out IpBanOptions updated, out string reason))
        {
            error = $"{source}: ipban {reason}";
            return false;
        }

        IpBan = updated;
        if (!forThisRun && IpBanParameters.TrySet(KeptIpBan, name, value, IpLists, out IpBanOptions kept, out _))
        {
            KeptIpBan = kept;
        }

        error = string.Empty;
        return true;
    }

    /// <summary>
    /// The console changed one IPBAN parameter (<paramref name="name"/>) in the running server:
    /// <paramref name="options"/> is in force now, and the change is kept for <c>save conf</c>.
    /// </summary>
    public void SetIpBan(IpBanOptions options, string name)
    {
        IpBan = options ?? throw new ArgumentNullException(nameof(options));
        string line = IpBanParameters.FormatOne(options, name);
        string value = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..];
        if (IpBanParameters.TrySet(KeptIpBan, name, value, IpLists, out IpBanOptions kept, out _))
        {
            KeptIpBan = kept;
        }
    }

    /// <summary>
    /// Sets one parameter after checking its value. On failure nothing changes and
    /// <paramref name="error"/> is one line: <c>SOURCE: NAME:VALUE is invalid: allowed …</c>
    /// (a password value shows as <c>********</c>).
    /// Cross-parameter rules are checked by <see cref="TryValidate"/>, not here.
    /// </summary>
    public bool TrySet(string name, string value, string source, out string error) =>
        TrySet(name, value, source, forThisRun: false, out error);

    /// <summary>
    /// <see cref="TrySet"/> for a value given on the command line: in force for this run, but
    /// <c>save conf</c> keeps writing what the file (or the console) said.
    /// </summary>
    public bool TrySetForThisRun(string name, string value, string source, out string error) =>
        TrySet(name, value, source, forThisRun: true, out error);

    private bool TrySet(string name, string value, string source, bool forThisRun, out string error)
    {
        if (name.Equals(IpBanPrefix, StringComparison.OrdinalIgnoreCase))
        {
            int colon = value.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                error = $"{source}: {name}:{value} is invalid: allowed IPBAN:NAME:VALUE with NAME one of {string.Join(", ", IpBanParameters.Names)}";
                return false;
            }

            return TrySetIpBan(value[..colon], value[(colon + 1)..], source, forThisRun, out error);
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

        _entries[index] = new ParameterEntry(normalized, source, ++_sequence, forThisRun);
        if (!forThisRun)
        {
            _kept[index] = _entries[index];
        }

        error = string.Empty;
        return true;
    }

    /// <summary>The whole state of one parameter, to put back with <see cref="Restore"/> after a refused change.</summary>
    public (ParameterEntry Running, ParameterEntry Kept) Snapshot(string name)
    {
        int index = IndexOf(name);
        return (_entries[index], _kept[index]);
    }

    public void Restore(string name, (ParameterEntry Running, ParameterEntry Kept) snapshot)
    {
        int index = IndexOf(name);
        (_entries[index], _kept[index]) = snapshot;
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
    /// <c>NAME:VALUE</c> (secrets in clear) of every parameter <c>save conf</c> writes: those
    /// whose value comes from the file or the console, in table order; a value given on the
    /// command line is not among them (the file's value under it is, if the file set one).
    /// </summary>
    public IReadOnlyList<string> SavedLines()
    {
        var lines = new List<string>();
        for (int i = 0; i < _kept.Length; i++)
        {
            if (_kept[i].Source != DefaultSource)
            {
                lines.Add($"{ParameterTable.All[i].Name}:{ConfigLineTokenizer.Quote(_kept[i].Value)}");
            }
        }

        return lines;
    }

    /// <summary>
    /// Parameters in force with a value from the command line that <c>save conf</c> does not
    /// write (IPBAN ones as <c>IPBAN:NAME</c>).
    /// </summary>
    public IReadOnlyList<string> ForThisRunOnly()
    {
        var names = new List<string>();
        for (int i = 0; i < _entries.Length; i++)
        {
            if (_entries[i].ForThisRun && _entries[i].Value != _kept[i].Value)
            {
                names.Add(ParameterTable.All[i].Name);
            }
        }

        IReadOnlyList<string> running = IpBanParameters.Format(IpBan);
        IReadOnlyList<string> kept = IpBanParameters.Format(KeptIpBan);
        for (int i = 0; i < running.Count; i++)
        {
            if (running[i] != kept[i])
            {
                names.Add($"{IpBanPrefix}:{running[i][..running[i].IndexOf(':', StringComparison.Ordinal)]}");
            }
        }

        return names;
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
        ParameterEntry latest = _entries[IndexOf(names[0])];
        foreach (string name in names)
        {
            ParameterEntry entry = _entries[IndexOf(name)];
            if (entry.Sequence > latest.Sequence)
            {
                latest = entry;
            }
        }

        return latest.Source;
    }

    internal readonly record struct ParameterEntry(string Value, string Source, int Sequence, bool ForThisRun = false);
}
