using System.Text;
using AbilisFast.Server.Access;
using AbilisFast.Server.Configuration;
using AbilisFast.Server.Recipients;

namespace AbilisFast.Fuzz;

/// <summary>
/// The aliases target: the first byte picks the settings (bit 0: LOCAL-RCPT:ANY instead of KNOWN,
/// bit 1: RECIPIENT-DELIMITER +- instead of +), the rest is a WDIR/aliases file (UTF-8, split into
/// lines as <c>File.ReadAllLines</c> splits them), parsed by <see cref="AliasFile.Parse"/> and built
/// with a fixed set of users into the <see cref="RecipientTable"/> the sessions use. Bad input may
/// only give an <see cref="AliasFileException"/> whose message starts with <c>aliases:LINE:</c> (a
/// line of the file). On a file that parses: names are unique, every target is trimmed, non-empty,
/// without a comma, an address exactly when it holds '@'; the entries written back as
/// <c>name: target, ...</c> parse to the same entries. On a table that builds: every alias with
/// targets is found with exactly those, at most <see cref="AliasFile.MaxTargets"/> of them, no two
/// alike; every mailbox is a valid folder name, and under LOCAL-RCPT:KNOWN only a user's or the
/// postmaster's (an alias never makes a folder for an unknown name); every address is outside the
/// local domains; the users and postmaster, abuse and root are always found.
/// </summary>
internal sealed class AliasesHarness : IDisposable
{
    private const string FileName = "aliases";
    private static readonly string[] MailUsers = ["bob", "carol", "sales.team"];

    private readonly string _workDir;
    private readonly UserStore _users;
    private readonly SmtpSettings[] _settings;

    public AliasesHarness()
    {
        string root = Environment.GetEnvironmentVariable("ABILISFAST_FUZZ_TMP") is { Length: > 0 } configured ? configured : Path.GetTempPath();
        _workDir = Path.Combine(root, "abilisfast-fuzz-aliases-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_workDir);

        // Hashing is irrelevant here: the users file is written with well-formed entries, not Set (100,000 PBKDF2 rounds each).
        string salt = Convert.ToBase64String(new byte[16]);
        string hash = Convert.ToBase64String(new byte[32]);
        (string Name, string Rights)[] users = [("bob", "mail"), ("carol", "mail"), ("sales.team", "mail"), ("Zed", "admin"), ("viewer", "user")];
        File.WriteAllLines(UserStore.PathIn(_workDir), users.Select(u => $"{u.Name}:{u.Rights}:pbkdf2-sha256:100000:{salt}:{hash}"));
        _users = UserStore.Load(_workDir);
        _settings = new SmtpSettings[4];
        for (int i = 0; i < _settings.Length; i++)
        {
            _settings[i] = ConfigurationLoader.Load(CommandLine.Parse(
                ["LOCAL-DOMAIN:local.test,other.test,bücher.test", "STORE-MB:YES",
                    (i & 1) == 0 ? "LOCAL-RCPT:KNOWN" : "LOCAL-RCPT:ANY",
                    (i & 2) == 0 ? "RECIPIENT-DELIMITER:+" : "RECIPIENT-DELIMITER:+-"]));
        }
    }

    public void Run(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        SmtpSettings settings = _settings[data[0] & 3];
        string[] lines = ConfigHarness.Lines(Encoding.UTF8.GetString(data[1..]));
        AliasFile aliases;
        try
        {
            aliases = AliasFile.Parse(FileName, lines);
        }
        catch (AliasFileException e)
        {
            CheckMessage(e, lines.Length);
            return;
        }

        CheckEntries(aliases);
        RoundTrip(aliases);

        RecipientTable table;
        try
        {
            table = RecipientTable.Build(_users, aliases, settings);
        }
        catch (AliasFileException e)
        {
            CheckMessage(e, lines.Length);
            return;
        }

        CheckTable(table, aliases, settings);
    }

    private static void CheckMessage(AliasFileException e, int lineCount)
    {
        string prefix = FileName + ":";
        Check(e.Message.StartsWith(prefix, StringComparison.Ordinal), $"the error does not start with FILE: {e.Message}");
        int colon = e.Message.IndexOf(':', prefix.Length);
        Check(colon > prefix.Length && int.TryParse(e.Message.AsSpan(prefix.Length, colon - prefix.Length), out int line) && line >= 1 && line <= lineCount,
            $"the error does not name a line of the file ({lineCount} lines): {e.Message}");
    }

    private static void CheckEntries(AliasFile aliases)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (AliasEntry entry in aliases.Entries)
        {
            Check(names.Add(entry.Name), $"'{entry.Name}' is defined twice");
            Check(entry.IsCatchAll == entry.Name.StartsWith('@'), $"'{entry.Name}': catch-all {entry.IsCatchAll}");
            Check(entry.Targets.Count > 0, $"'{entry.Name}' has no target");
            foreach (AliasTargetText target in entry.Targets)
            {
                Check(target.Text.Length > 0 && target.Text.Trim() == target.Text && !target.Text.Contains(','), $"'{entry.Name}': target '{target.Text}'");
                Check(target.IsAddress == target.Text.Contains('@'), $"'{entry.Name}': '{target.Text}' address {target.IsAddress}");
                Check(target.Line >= entry.Line, $"'{entry.Name}': target '{target.Text}' on line {target.Line}, before the alias's line {entry.Line}");
            }
        }
    }

    /// <summary>The entries written back one per line parse to the same names and targets.</summary>
    private static void RoundTrip(AliasFile aliases)
    {
        string[] written = [.. aliases.Entries.Select(e => $"{e.Name}: {string.Join(", ", e.Targets.Select(t => t.Text))}")];
        AliasFile again;
        try
        {
            again = AliasFile.Parse(FileName, written);
        }
        catch (AliasFileException e)
        {
            throw new FuzzInvariantException($"the entries written back do not parse: {e.Message}");
        }

        Check(again.Entries.Count == aliases.Entries.Count, $"{aliases.Entries.Count} entries became {again.Entries.Count}");
        for (int i = 0; i < again.Entries.Count; i++)
        {
            AliasEntry a = aliases.Entries[i];
            AliasEntry b = again.Entries[i];
            Check(a.Name == b.Name && a.CatchAllDomain == b.CatchAllDomain, $"'{a.Name}' became '{b.Name}'");
            Check(a.Targets.Select(t => (t.Text, t.IsAddress)).SequenceEqual(b.Targets.Select(t => (t.Text, t.IsAddress))), $"the targets of '{a.Name}' changed");
        }
    }

    private void CheckTable(RecipientTable table, AliasFile aliases, SmtpSettings settings)
    {
        var folders = new HashSet<string>(MailUsers, StringComparer.Ordinal) { table.PostmasterFolder };
        Check(table.PostmasterFolder == "zed", $"postmaster goes to '{table.PostmasterFolder}', not to the first admin");
        foreach (AliasEntry entry in aliases.Entries)
        {
            if (entry.IsCatchAll)
            {
                continue;
            }

            RecipientTarget[]? found = table.Find(entry.Name, "local.test", settings.RecipientDelimiter);
            bool skipped = table.Warnings.Any(w => w.Contains($"every target of '{entry.Name}' was skipped", StringComparison.Ordinal));
            Check(found is not null || skipped, $"'{entry.Name}' is neither found nor reported as skipped");
            if (skipped)
            {
                continue;
            }

            Check(found!.Length is > 0 and <= AliasFile.MaxTargets, $"'{entry.Name}' has {found.Length} targets");
            Check(found.Select(t => (t.IsMailbox, t.Value)).Distinct().Count() == found.Length, $"'{entry.Name}' has a target twice");
            foreach (RecipientTarget target in found)
            {
                if (target.IsMailbox)
                {
                    Check(MailboxFolder.IsValid(target.Value), $"'{entry.Name}': folder '{target.Value}' is not a valid folder name");
                    Check(!settings.LocalRcptKnown || folders.Contains(target.Value), $"'{entry.Name}': folder '{target.Value}' is no user's under LOCAL-RCPT:KNOWN");
                }
                else
                {
                    int at = target.Value.LastIndexOf('@');
                    Check(at > 0 && !settings.IsLocalDomain(Encoding.UTF8.GetBytes(target.Value[(at + 1)..])), $"'{entry.Name}': address '{target.Value}' is in a local domain");
                }
            }
        }

        foreach (string name in (IEnumerable<string>)[.. MailUsers, .. RecipientTable.RoleNames])
        {
            Check(table.Find(name, "local.test", settings.RecipientDelimiter) is { Length: > 0 }, $"'{name}' is not found");
        }
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(message);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
