using System.Text;

namespace AbilisFast.Server.Configuration;

/// <summary>
/// The running configuration behind <c>d p smtp</c>, <c>s p smtp NAME:VALUE</c> and
/// <c>save conf</c>: the same store and validation as the file, changes put in force at once
/// where the parameter is live, kept for the next start where it needs a restart.
/// Console commands are few: one lock serialises them.
/// </summary>
internal sealed class LiveConfiguration
{
    public const string Source = "console";

    private readonly Lock _lock = new();
    private readonly CommandLineResult? _commandLine;
    private ParameterStore _store;
    private ILiveSettingsTarget? _context;
    private ILiveIpBanTarget? _bans;

    public LiveConfiguration(ParameterStore store, string? configPath)
    {
        _store = store;
        ConfigPath = configPath;
    }

    /// <summary>
    /// The running configuration of a server started with <paramref name="commandLine"/>: a reload
    /// (<see cref="Reload"/>) reads its --config file again and applies its NAME:VALUE arguments on top.
    /// </summary>
    public LiveConfiguration(ParameterStore store, CommandLineResult commandLine)
        : this(store, commandLine.ConfigPath)
    {
        _commandLine = commandLine;
    }

    /// <summary>The --config file, or null when the server started without one.</summary>
    public string? ConfigPath { get; }

    public void Attach(ILiveSettingsTarget context) => _context = context;

    /// <summary>The ban service whose IPBAN options a reload replaces.</summary>
    public void Attach(ILiveIpBanTarget bans) => _bans = bans;

    /// <summary>The IPBAN parameters from the file and command line (and the console since).</summary>
    public IpBanOptions IpBan
    {
        get
        {
            lock (_lock)
            {
                return _store.IpBan;
            }
        }
    }

    /// <summary>
    /// <c>s p ipban NAME:VALUE</c>: validates against the current options (WHITE-LIST may name the
    /// configured IP lists), puts the change in force in <paramref name="bans"/> and keeps it for
    /// <see cref="Save"/>. Returns the error text or the one line to show.
    /// </summary>
    public (bool Ok, string Message) SetIpBan(ILiveIpBanTarget bans, string name, string value)
    {
        lock (_lock)
        {
            if (!IpBanParameters.TrySet(bans.Options, name, value, _store.IpLists, out IpBanOptions updated, out string error))
            {
                return (false, error);
            }

            bans.Options = updated;
            _store.SetIpBan(updated, name);
            return (true, $"{IpBanParameters.FormatOne(updated, name)} set, in force now (save conf keeps it)");
        }
    }

    /// <summary>Every parameter, <c>NAME:VALUE</c>, passwords masked, with * on those that need a restart.</summary>
    public IReadOnlyList<string> Format()
    {
        lock (_lock)
        {
            IReadOnlyList<string> lines = _store.Format();
            return lines.Select((line, i) => ParameterTable.All[i].RequiresRestart ? line + " *" : line).ToList();
        }
    }

    /// <summary>Sets one <c>NAME:VALUE</c>; returns the one line to show (an error or what happened).</summary>
    public (bool Ok, string Message) Set(string token)
    {
        int colon = token.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return (false, $"'{token}' is not NAME:VALUE");
        }

        string name = token[..colon];
        string value = token[(colon + 1)..];
        if (!ParameterTable.TryFind(name, out int index))
        {
            return (false, $"{name} is not a parameter (d p smtp lists them)");
        }

        ParameterDefinition definition = ParameterTable.All[index];
        lock (_lock)
        {
            var old = _store.Snapshot(definition.Name);
            if (!_store.TrySet(definition.Name, value, Source, out string error))
            {
                return (false, error);
            }

            SmtpSettings next;
            try
            {
                if (!_store.TryValidate(out error))
                {
                    _store.Restore(definition.Name, old);
                    return (false, error);
                }

                next = _store.ToSettings();
            }
            catch (ConfigurationException e)
            {
                _store.Restore(definition.Name, old);
                return (false, e.Message);
            }

            string shown = $"{definition.Name}:{_store.Format()[index][(definition.Name.Length + 1)..]}";
            if (definition.RequiresRestart || _context is null)
            {
                return (true, $"{shown} set; takes effect after a restart (save conf keeps it)");
            }

            ApplyLive(_context, next);
            return (true, $"{shown} set, in force now");
        }
    }

    /// <summary>
    /// SIGHUP: reads the --config file again, applies the command line's NAME:VALUE arguments on top
    /// (they keep winning), and puts the live parameters that changed in force. Restart-only
    /// parameters that changed are kept for the next start and named. An invalid file is refused
    /// whole (the running configuration stays) with the same one-line error as a start.
    /// Changes made on the console and not saved are replaced by the file's values.
    /// Returns the one line for standard error (without the "abilisfast: " prefix).
    /// </summary>
    public (bool Ok, string Message) Reload()
    {
        if (_commandLine is null)
        {
            return (false, "reload: no command line to reload from");
        }

        ParameterStore next;
        SmtpSettings settings;
        try
        {
            next = ConfigurationLoader.LoadStore(_commandLine);
            settings = next.ToSettings();
        }
        catch (ConfigurationException e)
        {
            return (false, $"reload refused, the running configuration stays: {e.Message}");
        }

        lock (_lock)
        {
            var restart = new List<string>();
            var applied = new List<string>();
            Compare(_store, next, restart, applied);
            if (!IpBanParameters.Format(_store.IpBan).SequenceEqual(IpBanParameters.Format(next.IpBan)))
            {
                applied.Add("IPBAN");
                if (_bans is not null)
                {
                    _bans.Options = next.IpBan;
                }
            }

            _store = next;
            if (_context is not null)
            {
                ApplyLive(_context, settings);
            }

            return (true, ReloadMessage(restart, applied));
        }
    }

    /// <summary>The parameters that differ between two stores (by whether they need a restart) and the IP lists that differ (applied at once).</summary>
    private static void Compare(ParameterStore current, ParameterStore next, List<string> restart, List<string> applied)
    {
        IReadOnlyList<string> before = current.Format(revealSecrets: true);
        IReadOnlyList<string> after = next.Format(revealSecrets: true);
        for (int i = 0; i < before.Count; i++)
        {
            if (before[i] != after[i])
            {
                ParameterDefinition definition = ParameterTable.All[i];
                (definition.RequiresRestart ? restart : applied).Add(definition.Name);
            }
        }

        foreach (string list in next.IpLists.Names.Union(current.IpLists.Names, StringComparer.OrdinalIgnoreCase))
        {
            string old = current.IpLists.Contains(list) ? current.IpLists.Describe(list).Text : string.Empty;
            string now = next.IpLists.Contains(list) ? next.IpLists.Describe(list).Text : string.Empty;
            if (old != now)
            {
                applied.Add("iplist " + list);
            }
        }
    }

    /// <summary>The answer to a reload: what needs a restart and what was applied.</summary>
    private static string ReloadMessage(List<string> restart, List<string> applied)
    {
        if (restart.Count == 0 && applied.Count == 0)
        {
            return "reload: no change";
        }

        string text = "reload:";
        if (restart.Count > 0)
        {
            text += $" {string.Join(", ", restart)} need{(restart.Count == 1 ? "s" : string.Empty)} a restart;";
        }

        return text + (applied.Count > 0 ? $" applied: {string.Join(", ", applied)}" : " applied: nothing");
    }

    /// <summary>Puts <paramref name="next"/> in force, keeping the restart-only values as they run.</summary>
    private static void ApplyLive(ILiveSettingsTarget context, SmtpSettings next)
    {
        SmtpSettings running = context.Settings;
        context.ApplySettings(next with
        {
            TcpLocPort = running.TcpLocPort,
            SesTot = running.SesTot,
            SesReservedIn = running.SesReservedIn,
            SesReservedOut = running.SesReservedOut,
            WorkDir = running.WorkDir,
            AdminAddress = running.AdminAddress,
            AdminPort = running.AdminPort,
            TlsCertPath = running.TlsCertPath,
            TlsKeyPath = running.TlsKeyPath,
        });
    }

    /// <summary>The file <c>save conf</c> writes: the --config file, else WDIR/abilisfast.conf.</summary>
    public string SavePath(string workDir) => Path.GetFullPath(ConfigPath ?? Path.Combine(workDir, "abilisfast.conf"));

    /// <summary>
    /// <c>save conf</c>: writes the parameters set in the file or on the console (not the
    /// defaults, not the command line's), the named IP lists and the IPBAN parameters that are not
    /// defaults (<c>ipban NAME:VALUE</c> lines) to the configuration file (the --config file, else
    /// WDIR/abilisfast.conf), atomically and with mode 0600 (it holds SERVER-PWD in clear). A
    /// parameter given on the command line keeps, in the file, the value the file gave it.
    /// Throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> when the file
    /// cannot be written; the old file is then as it was.
    /// </summary>
    public SaveResult Save(string workDir)
    {
        lock (_lock)
        {
            string path = SavePath(workDir);
            var text = new StringBuilder();
            text.Append("# abilisfast configuration, saved by the console on ")
                .Append(DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture))
                .Append('\n');
            foreach (string list in _store.IpLists.Names)
            {
                (string listText, string listSource) = _store.IpLists.Describe(list);
                if (listSource != "built-in")
                {
                    text.Append("iplist ").Append(list).Append(": ").Append(listText).Append('\n');
                }
            }

            IReadOnlyList<string> lines = _store.SavedLines();
            foreach (string line in lines)
            {
                text.Append(line).Append('\n');
            }

            IReadOnlyList<string> ipban = IpBanParameters.Format(_store.KeptIpBan);
            IReadOnlyList<string> ipbanDefaults = IpBanParameters.Format(IpBanOptions.Default);
            int ipbanLines = 0;
            for (int i = 0; i < ipban.Count; i++)
            {
                if (ipban[i] != ipbanDefaults[i])
                {
                    int colon = ipban[i].IndexOf(':', StringComparison.Ordinal);
                    text.Append(ConfigFileReader.IpBanKeyword).Append(' ')
                        .Append(ipban[i], 0, colon + 1).Append(ConfigLineTokenizer.Quote(ipban[i][(colon + 1)..])).Append('\n');
                    ipbanLines++;
                }
            }

            PrivateFileWriter.WriteAtomically(path, Encoding.UTF8.GetBytes(text.ToString()));
            return new SaveResult(path, lines.Count, ipbanLines, _store.ForThisRunOnly());
        }
    }
}

/// <summary>What <see cref="LiveConfiguration.Save"/> wrote: the file, its parameter and ipban lines, and the command-line values it left out.</summary>
internal sealed record SaveResult(string Path, int Parameters, int IpBanLines, IReadOnlyList<string> NotSaved);
