using System.Text;
using AbilisFast.Server.Access;

namespace AbilisFast.Server.Recipients;

/// <summary>Where mail for a local name ends up: a mailbox folder here, or an address it is relayed to.</summary>
internal sealed class RecipientTarget
{
    private RecipientTarget(bool isMailbox, string value)
    {
        IsMailbox = isMailbox;
        Value = value;
        Utf8 = Encoding.UTF8.GetBytes(value);
    }

    /// <summary>True: <see cref="Value"/> is a folder under WDIR/mailboxes; false: an address to relay to.</summary>
    public bool IsMailbox { get; }

    public string Value { get; }

    public byte[] Utf8 { get; }

    public static RecipientTarget Mailbox(string folder) => new(true, folder);

    public static RecipientTarget Address(string address) => new(false, address);

    public override string ToString() => IsMailbox ? "mailbox " + Value : Value;
}

/// <summary>
/// The local recipients in force: users with the <c>mail</c> right, the aliases (expanded at build
/// to their final mailboxes and addresses, loops refused), the catch-alls and postmaster, abuse and
/// root. Built from a users snapshot, the aliases file and the settings (LOCAL-DOMAIN,
/// RECIPIENT-DELIMITER, LOCAL-RCPT); immutable, so sessions read it without locks, and
/// <see cref="Find"/> allocates nothing.
/// </summary>
internal sealed class RecipientTable
{
    /// <summary>Names every mail domain must accept (RFC 5321 4.5.1, RFC 2142): the first admin user's mailbox unless aliased.</summary>
    public static readonly IReadOnlyList<string> RoleNames = ["postmaster", "abuse", "root"];

    /// <summary>The folder for postmaster, abuse and root when no user has admin rights.</summary>
    public const string FallbackPostmasterFolder = "postmaster";

    private readonly Dictionary<string, RecipientTarget[]> _names;
    private readonly Dictionary<string, RecipientTarget[]>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly Dictionary<string, RecipientTarget[]> _catchAll;

    private RecipientTable(Dictionary<string, RecipientTarget[]> names, Dictionary<string, RecipientTarget[]> catchAll,
        string postmasterFolder, IReadOnlyList<string> warnings, int users, int aliases)
    {
        _names = names;
        _lookup = names.GetAlternateLookup<ReadOnlySpan<char>>();
        _catchAll = catchAll;
        PostmasterFolder = postmasterFolder;
        Warnings = warnings;
        UserCount = users;
        AliasCount = aliases;
    }

    /// <summary>The mailbox of postmaster, abuse and root when they are not aliased.</summary>
    public string PostmasterFolder { get; }

    /// <summary>Targets skipped at build (unknown local names, catch-alls for other domains), FILE:LINE first.</summary>
    public IReadOnlyList<string> Warnings { get; }

    public int UserCount { get; }

    public int AliasCount { get; }

    public int CatchAllCount => _catchAll.Count;

    /// <summary>An empty table: only postmaster, abuse and root, into the fallback folder.</summary>
    public static RecipientTable Empty(SmtpSettings settings) =>
        Build(UserStore.Empty(Path.GetTempPath()), AliasFile.Empty("aliases"), settings);

    /// <summary>
    /// The targets of a local part (canonical: unquoted, any case): an alias, a user, a role name,
    /// then the same without the address extension (bob+tag: bob), then the catch-all of
    /// <paramref name="domainAscii"/> (the LOCAL-DOMAIN the address is in; null for the bare
    /// postmaster). Null when none applies. Allocates nothing.
    /// </summary>
    public RecipientTarget[]? Find(ReadOnlySpan<char> canonical, string? domainAscii, string delimiters)
    {
        if (_lookup.TryGetValue(canonical, out RecipientTarget[]? targets))
        {
            return targets;
        }

        ReadOnlySpan<char> bare = MailboxFolder.WithoutExtension(canonical, delimiters);
        if (bare.Length != canonical.Length && _lookup.TryGetValue(bare, out targets))
        {
            return targets;
        }

        return domainAscii is not null && _catchAll.TryGetValue(domainAscii, out targets) ? targets : null;
    }

    /// <summary>
    /// Builds the table. Throws <see cref="AliasFileException"/> (FILE:LINE) for a loop between
    /// aliases or an alias that expands to more than <see cref="AliasFile.MaxTargets"/> targets.
    /// </summary>
    public static RecipientTable Build(UserStore users, AliasFile aliases, SmtpSettings settings) =>
        new Builder(users, aliases, settings).Build();

    private sealed class Builder
    {
        private readonly AliasFile _aliases;
        private readonly SmtpSettings _settings;
        private readonly Dictionary<string, RecipientTarget[]> _users = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, AliasEntry> _entries = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, RecipientTarget[]> _expanded = new(StringComparer.OrdinalIgnoreCase);
        private readonly List<string> _stack = [];
        private readonly List<int> _deepestBelow = [];
        private readonly Dictionary<string, int> _depth = new(StringComparer.OrdinalIgnoreCase);
        private readonly List<string> _warnings = [];
        private readonly RecipientTarget[] _postmaster;

        public Builder(UserStore users, AliasFile aliases, SmtpSettings settings)
        {
            _aliases = aliases;
            _settings = settings;
            string? firstAdmin = null;
            foreach ((string name, UserRights rights) in users.List())
            {
                if (rights == UserRights.Mail)
                {
                    _users[name] = [RecipientTarget.Mailbox(MailboxFolder.ForUser(name))];
                }
                else if (rights >= UserRights.Admin)
                {
                    firstAdmin ??= name;
                }
            }

            _postmaster = [RecipientTarget.Mailbox(firstAdmin is null ? FallbackPostmasterFolder : MailboxFolder.ForUser(firstAdmin))];
            foreach (AliasEntry entry in aliases.Entries)
            {
                _entries[entry.Name] = entry;
            }
        }

        public RecipientTable Build()
        {
            var names = new Dictionary<string, RecipientTarget[]>(StringComparer.OrdinalIgnoreCase);
            var catchAll = new Dictionary<string, RecipientTarget[]>(StringComparer.OrdinalIgnoreCase);
            int aliasCount = 0;
            foreach (AliasEntry entry in _aliases.Entries)
            {
                RecipientTarget[] targets = Expand(entry);
                if (targets.Length == 0)
                {
                    _warnings.Add($"{_aliases.Path}:{entry.Line}: every target of '{entry.Name}' was skipped: mail to it is refused");
                    continue;
                }

                if (entry.IsCatchAll)
                {
                    if (_settings.LocalDomains.Count > 0 && !_settings.IsLocalDomain(Encoding.UTF8.GetBytes(entry.CatchAllDomain!)))
                    {
                        _warnings.Add($"{_aliases.Path}:{entry.Line}: {entry.Name} is not in LOCAL-DOMAIN: this catch-all has no effect");
                    }

                    catchAll[entry.CatchAllDomain!] = targets;
                }
                else
                {
                    names[entry.Name] = targets;
                    aliasCount++;
                }
            }

            foreach ((string name, RecipientTarget[] targets) in _users)
            {
                names.TryAdd(name, targets);
            }

            foreach (string role in RoleNames)
            {
                names.TryAdd(role, _postmaster);
            }

            return new RecipientTable(names, catchAll, _postmaster[0].Value, _warnings, _users.Count, aliasCount);
        }

        private RecipientTarget[] Expand(AliasEntry entry)
        {
            if (_expanded.TryGetValue(entry.Name, out RecipientTarget[]? done))
            {
                return done;
            }

            _stack.Add(entry.Name);
            _deepestBelow.Add(0);
            var targets = new List<RecipientTarget>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (AliasTargetText target in entry.Targets)
            {
                string local = target.Text;
                string? domain = null;
                if (target.IsAddress)
                {
                    int at = target.Text.LastIndexOf('@');
                    int index = _settings.LocalDomainIndex(Encoding.UTF8.GetBytes(target.Text[(at + 1)..]));
                    if (index < 0)
                    {
                        Add(targets, seen, RecipientTarget.Address(target.Text), entry);
                        continue;
                    }

                    local = target.Text[..at];
                    domain = _settings.LocalDomainAscii(index);
                }

                // An alias that names itself means the mailbox of that name (bob: bob, carol), as in aliases(5).
                string? self = entry.IsCatchAll ? null : entry.Name;
                foreach (RecipientTarget resolved in ResolveLocal(local, domain, self, target.Line))
                {
                    Add(targets, seen, resolved, entry);
                }
            }

            _stack.RemoveAt(_stack.Count - 1);
            int depth = 1 + _deepestBelow[^1];
            _deepestBelow.RemoveAt(_deepestBelow.Count - 1);
            if (depth > AliasFile.MaxDepth)
            {
                // Reached through aliases expanded before (file order): the same limit as below.
                throw new AliasFileException($"{_aliases.Path}:{entry.Line}: '{entry.Name}': aliases nested more than {AliasFile.MaxDepth} deep");
            }

            if (_deepestBelow.Count > 0)
            {
                _deepestBelow[^1] = Math.Max(_deepestBelow[^1], depth);
            }

            _depth[entry.Name] = depth;
            RecipientTarget[] result = [.. targets];
            _expanded[entry.Name] = result;
            return result;
        }

        private void Add(List<RecipientTarget> targets, HashSet<string> seen, RecipientTarget target, AliasEntry entry)
        {
            if (!seen.Add((target.IsMailbox ? "M:" : "A:") + target.Value))
            {
                return;
            }

            if (targets.Count == AliasFile.MaxTargets)
            {
                throw new AliasFileException($"{_aliases.Path}:{entry.Line}: '{entry.Name}' expands to more than {AliasFile.MaxTargets} targets");
            }

            targets.Add(target);
        }

        private RecipientTarget[] ResolveLocal(string local, string? domain, string? self, int line)
        {
            if (self is null || !string.Equals(local, self, StringComparison.OrdinalIgnoreCase))
            {
                if (Alias(local, line) is { } aliased)
                {
                    return aliased;
                }
            }

            if (Direct(local) is { } direct)
            {
                return direct;
            }

            string bare = MailboxFolder.WithoutExtension(local, _settings.RecipientDelimiter).ToString();
            if (bare.Length != local.Length)
            {
                if ((self is null || !string.Equals(bare, self, StringComparison.OrdinalIgnoreCase)) && Alias(bare, line) is { } aliasedBare)
                {
                    return aliasedBare;
                }

                if (Direct(bare) is { } directBare)
                {
                    return directBare;
                }
            }

            if (domain is not null && _entries.TryGetValue("@" + domain, out AliasEntry? catchAll) && Alias(catchAll.Name, line) is { } caught)
            {
                return caught;
            }

            if (!_settings.LocalRcptKnown)
            {
                return [RecipientTarget.Mailbox(MailboxFolder.For(bare))];
            }

            _warnings.Add($"{_aliases.Path}:{line}: '{local}' is not a user with the mail right, an alias or {string.Join('/', RoleNames)}: skipped");
            return [];
        }

        /// <summary>The expansion of the alias <paramref name="name"/>, or null when there is none; throws on a loop.</summary>
        private RecipientTarget[]? Alias(string name, int line)
        {
            if (!_entries.TryGetValue(name, out AliasEntry? entry))
            {
                return null;
            }

            int start = _stack.FindIndex(s => string.Equals(s, entry.Name, StringComparison.OrdinalIgnoreCase));
            if (start >= 0)
            {
                string cycle = string.Join(" -> ", _stack.Skip(start).Append(entry.Name));
                throw new AliasFileException($"{_aliases.Path}:{line}: alias loop: {cycle}");
            }

            if (_expanded.ContainsKey(entry.Name))
            {
                _deepestBelow[^1] = Math.Max(_deepestBelow[^1], _depth[entry.Name]);
            }
            else if (_stack.Count >= AliasFile.MaxDepth)
            {
                // One level more would be too deep: refused before the recursion can exhaust the stack.
                throw new AliasFileException($"{_aliases.Path}:{line}: '{_stack[^1]}': aliases nested more than {AliasFile.MaxDepth} deep ({_stack[0]} -> {_stack[1]} -> ... -> {entry.Name})");
            }

            return Expand(entry);
        }

        /// <summary>A user with the mail right, or a role name (postmaster, abuse, root); null otherwise.</summary>
        private RecipientTarget[]? Direct(string name)
        {
            if (_users.TryGetValue(name, out RecipientTarget[]? user))
            {
                return user;
            }

            foreach (string role in RoleNames)
            {
                if (string.Equals(name, role, StringComparison.OrdinalIgnoreCase))
                {
                    return _postmaster;
                }
            }

            return null;
        }
    }
}
