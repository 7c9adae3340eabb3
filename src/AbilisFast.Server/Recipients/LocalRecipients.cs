using System.Globalization;
using AbilisFast.Server.Access;

namespace AbilisFast.Server.Recipients;

/// <summary>
/// The local recipients of a running server: WDIR/users and WDIR/aliases, followed as they change,
/// and the <see cref="RecipientTable"/> built from them for the settings in force. <see cref="For"/>
/// is the RCPT path: three reference compares and no allocation while nothing changed.
/// <see cref="Refresh"/> (the heartbeat, once a second; SIGHUP; a name not found) reads a changed
/// file again. A file that does not load, or aliases that loop, keep the table in force, and the
/// reason goes to <c>report</c> (the console's standard error and the session log), once per change.
/// </summary>
internal sealed class LocalRecipients
{
    private readonly Lock _lock = new();
    private readonly WatchedFile _aliasesFile;
    private readonly Action<string>? _report;
    private AliasFile _aliases;
    private AliasFile _goodAliases;
    private int _aliasesVersion;
    private volatile Built? _built;
    private long _nextHeartbeatRefresh;

    /// <param name="report">Gets each problem and each change (one line, no prefix).</param>
    public LocalRecipients(string workDir, Action<string>? report = null)
        : this(new UserDirectory(workDir, report), workDir, report)
    {
    }

    public LocalRecipients(UserDirectory users, string workDir, Action<string>? report = null)
    {
        Users = users;
        _report = report;
        _aliasesFile = new WatchedFile(AliasFile.PathIn(workDir));
        _aliases = AliasFile.Empty(_aliasesFile.Path);
        _goodAliases = _aliases;
        ReloadAliases(announce: false);
    }

    public UserDirectory Users { get; }

    public string AliasesPath => _aliasesFile.Path;

    /// <summary>The aliases and catch-alls in force (as read).</summary>
    public AliasFile Aliases => Volatile.Read(ref _aliases);

    /// <summary>The table for <paramref name="settings"/>: the one in force, or rebuilt when the users, the aliases or the settings changed.</summary>
    public RecipientTable For(SmtpSettings settings)
    {
        Built? built = _built;
        if (built is not null && ReferenceEquals(built.Settings, settings) && built.Users == Users.Version
            && built.Aliases == Volatile.Read(ref _aliasesVersion))
        {
            return built.Table;
        }

        return Rebuild(settings);
    }

    /// <summary>
    /// The settings a refresh builds the new table for at once, so that a loop in a changed aliases
    /// file is reported when the file is read, not at the next RCPT (the server's live settings).
    /// </summary>
    public Func<SmtpSettings>? Settings { get; set; }

    /// <summary>Reads WDIR/users and WDIR/aliases again if either changed; true when something changed.</summary>
    public bool Refresh()
    {
        bool users = Users.Refresh();
        bool aliases = _aliasesFile.Changed() && ReloadAliases(announce: true);
        if ((users || aliases) && Settings is { } settings)
        {
            _ = For(settings());
        }

        return users || aliases;
    }

    /// <summary>The heartbeat's refresh: at most once a second, however often the heartbeat runs.</summary>
    public void RefreshFromHeartbeat()
    {
        long now = Environment.TickCount64;
        if (now < Volatile.Read(ref _nextHeartbeatRefresh))
        {
            return;
        }

        Volatile.Write(ref _nextHeartbeatRefresh, now + 1000);
        Refresh();
    }

    /// <summary>SIGHUP: reads both files again whatever their time stamps, and says what is in force (one line).</summary>
    public string Reload(SmtpSettings settings)
    {
        Users.Refresh();
        ReloadAliases(announce: false, force: true);
        return Describe(For(settings));
    }

    /// <summary>One line: what the table holds, for the start and SIGHUP.</summary>
    public string Describe(RecipientTable table) =>
        string.Create(CultureInfo.InvariantCulture,
            $"recipients: {table.UserCount} mail user(s), {table.AliasCount} alias(es), {table.CatchAllCount} catch-all(s) from {AliasesPath}; postmaster, abuse and root go to mailbox {table.PostmasterFolder}");

    private bool ReloadAliases(bool announce, bool force = false)
    {
        lock (_lock)
        {
            if (!force && !_aliasesFile.Changed())
            {
                return false;
            }

            _aliasesFile.MarkRead();
            AliasFile loaded;
            try
            {
                loaded = AliasFile.Load(_aliasesFile.Path);
            }
            catch (Exception e) when (e is AliasFileException or IOException or UnauthorizedAccessException)
            {
                string reason = e is AliasFileException ? e.Message : $"{_aliasesFile.Path}: cannot read it ({e.GetType().Name})";
                _report?.Invoke($"aliases: {reason}; the aliases read before stay in force");
                return false;
            }

            if (!force && SameEntries(loaded, _aliases))
            {
                return false;
            }

            Volatile.Write(ref _aliases, loaded);
            Interlocked.Increment(ref _aliasesVersion);
            if (announce)
            {
                _report?.Invoke($"aliases: {_aliasesFile.Path} read again: {loaded.Entries.Count} entr{(loaded.Entries.Count == 1 ? "y" : "ies")}");
            }

            return true;
        }
    }

    private RecipientTable Rebuild(SmtpSettings settings)
    {
        lock (_lock)
        {
            int users = Users.Version;
            int aliasesVersion = _aliasesVersion;
            Built? built = _built;
            if (built is not null && ReferenceEquals(built.Settings, settings) && built.Users == users && built.Aliases == aliasesVersion)
            {
                return built.Table;
            }

            RecipientTable table;
            try
            {
                table = RecipientTable.Build(Users.Current, _aliases, settings);
                _goodAliases = _aliases;
                foreach (string warning in table.Warnings)
                {
                    _report?.Invoke($"aliases: {warning}");
                }
            }
            catch (AliasFileException e)
            {
                // The aliases that built last stay in force, with the users of now (no aliases at all
                // if even those no longer build, e.g. after LOCAL-DOMAIN changed).
                _report?.Invoke($"aliases: {e.Message}; the aliases read before stay in force");
                try
                {
                    table = RecipientTable.Build(Users.Current, _goodAliases, settings);
                }
                catch (AliasFileException)
                {
                    table = RecipientTable.Build(Users.Current, AliasFile.Empty(_aliasesFile.Path), settings);
                }
            }

            _built = new Built(table, settings, users, aliasesVersion);
            return table;
        }
    }

    private static bool SameEntries(AliasFile a, AliasFile b) =>
        a.Entries.Count == b.Entries.Count && a.Entries.Zip(b.Entries).All(p =>
            p.First.Name == p.Second.Name && p.First.Line == p.Second.Line && p.First.Targets.SequenceEqual(p.Second.Targets));

    // A class, not a record: nothing compares or prints it (see docs/performance.md, The binary's bytes).
    private sealed class Built(RecipientTable table, SmtpSettings settings, int users, int aliases)
    {
        public RecipientTable Table { get; } = table;

        public SmtpSettings Settings { get; } = settings;

        public int Users { get; } = users;

        public int Aliases { get; } = aliases;
    }
}
