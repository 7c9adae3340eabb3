using System.Text;

namespace AbilisFast.Server.Recipients;

/// <summary>A bad aliases file (or a loop between aliases): the message starts with FILE:LINE.</summary>
internal sealed class AliasFileException(string message) : Exception(message);

/// <summary>One target of an alias as written: a local name or a full address, and the line it is on.</summary>
internal readonly record struct AliasTargetText(string Text, bool IsAddress, int Line);

/// <summary>One alias (<c>name: targets</c>) or catch-all (<c>@domain: targets</c>) as written.</summary>
internal sealed record AliasEntry(string Name, string? CatchAllDomain, IReadOnlyList<AliasTargetText> Targets, int Line)
{
    public bool IsCatchAll => CatchAllDomain is not null;
}

/// <summary>
/// WDIR/aliases in the aliases(5) syntax: <c>name: target, target, ...</c>; a line that starts
/// with white space continues the one before; empty lines and lines whose first non-blank
/// character is <c>#</c> are ignored. A target is a local name (a user, another alias, or
/// postmaster/abuse/root) or a full address, which is relayed unless its domain is a LOCAL-DOMAIN.
/// <c>@domain: targets</c> is a catch-all for one local domain. Program (<c>|command</c>), file
/// (<c>/path</c>) and <c>:include:</c> targets are refused: an appliance relay runs no programs and
/// writes no files for mail. Every error names FILE:LINE.
/// </summary>
internal sealed class AliasFile
{
    /// <summary>An alias may name this many targets at most after expansion (Postfix's virtual_alias_expansion_limit).</summary>
    public const int MaxTargets = 1000;

    /// <summary>Aliases may name aliases this many levels deep at most (Postfix's virtual_alias_recursion_limit).</summary>
    public const int MaxDepth = 1000;

    private AliasFile(string path, IReadOnlyList<AliasEntry> entries)
    {
        Path = path;
        Entries = entries;
    }

    public static string PathIn(string workDir) => System.IO.Path.Combine(workDir, "aliases");

    public string Path { get; }

    public IReadOnlyList<AliasEntry> Entries { get; }

    /// <summary>No aliases (no file).</summary>
    public static AliasFile Empty(string path) => new(path, []);

    /// <summary>Reads and parses the file; an absent file is <see cref="Empty"/>.</summary>
    public static AliasFile Load(string path)
    {
        if (!File.Exists(path))
        {
            return Empty(path);
        }

        return Parse(path, File.ReadAllLines(path, Encoding.UTF8));
    }

    /// <summary>Parses the lines of a file named <paramref name="path"/> (for messages).</summary>
    public static AliasFile Parse(string path, IReadOnlyList<string> lines)
    {
        var entries = new List<AliasEntry>();
        var firstLine = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        StringBuilder? logical = null;
        int logicalLine = 0;
        var lineOfOffset = new List<(int Offset, int Line)>();
        for (int i = 0; i <= lines.Count; i++)
        {
            string? line = i < lines.Count ? lines[i] : null;
            bool blank = line is not null && (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'));
            if (blank)
            {
                continue;
            }

            if (line is not null && logical is not null && (line[0] == ' ' || line[0] == '\t'))
            {
                lineOfOffset.Add((logical.Length, i + 1));
                logical.Append(' ').Append(line.AsSpan().Trim());
                continue;
            }

            if (logical is not null)
            {
                entries.Add(ParseEntry(path, logical.ToString(), logicalLine, lineOfOffset, firstLine));
            }

            if (line is null)
            {
                break;
            }

            if (line[0] is ' ' or '\t')
            {
                throw new AliasFileException($"{path}:{i + 1}: a continuation line (it starts with white space) with no alias before it");
            }

            logical = new StringBuilder(line.Trim());
            logicalLine = i + 1;
            lineOfOffset.Clear();
            lineOfOffset.Add((0, i + 1));
        }

        return new AliasFile(path, entries);
    }

    private static AliasEntry ParseEntry(string path, string text, int line, List<(int Offset, int Line)> lineOfOffset, Dictionary<string, int> firstLine)
    {
        int colon = text.IndexOf(':');
        if (colon <= 0)
        {
            throw new AliasFileException($"{path}:{line}: expected 'name: target, target, ...'");
        }

        string name = text[..colon].Trim();
        string? catchAllDomain = null;
        if (name.StartsWith('@'))
        {
            string domain = name[1..].TrimEnd('.');
            if (DomainSet.TryToAscii(domain) is not { } ascii || !ParameterValues.IsDomainName(ascii))
            {
                throw new AliasFileException($"{path}:{line}: '{name}' is not @ and a domain name (a catch-all is written @domain: target)");
            }

            catchAllDomain = ascii;
            name = "@" + ascii;
        }
        else if (name.Contains('@'))
        {
            throw new AliasFileException($"{path}:{line}: '{name}': an alias name is a local part (it applies to every LOCAL-DOMAIN) or @domain for a catch-all");
        }
        else if (!IsLocalName(name))
        {
            throw new AliasFileException($"{path}:{line}: '{name}' is not a valid alias name (letters, digits and . - _ + = # $ & ' * / ? ^ ` {{ | }} ~, UTF-8 allowed)");
        }

        if (firstLine.TryGetValue(name, out int first))
        {
            throw new AliasFileException($"{path}:{line}: '{name}' is defined again (first at line {first})");
        }

        firstLine[name] = line;
        var targets = new List<AliasTargetText>();
        int offset = colon + 1;
        foreach (string raw in text[(colon + 1)..].Split(','))
        {
            int targetLine = LineAt(lineOfOffset, offset);
            offset += raw.Length + 1;
            string target = raw.Trim();
            if (target.Length == 0)
            {
                throw new AliasFileException($"{path}:{targetLine}: '{name}' has an empty target (two commas, or a comma at the end)");
            }

            targets.Add(ParseTarget(path, targetLine, name, target));
        }

        return new AliasEntry(name, catchAllDomain, targets, line);
    }

    private static AliasTargetText ParseTarget(string path, int line, string name, string target)
    {
        string refused = target[0] switch
        {
            '|' => "program targets (|command) are refused: an appliance relay runs no programs for mail",
            '/' => "file targets (/path) are refused: mail is only delivered to mailboxes and addresses",
            _ when target.StartsWith(":include:", StringComparison.OrdinalIgnoreCase) => ":include: targets are refused: list the targets in this file",
            _ when target.StartsWith('"') => "quoted targets (\"...\") are not supported: write the local name or address without quotes",
            _ => string.Empty,
        };
        if (refused.Length > 0)
        {
            throw new AliasFileException($"{path}:{line}: '{name}': {refused}");
        }

        if (target.Contains('@'))
        {
            if (AddressSyntax.Check(target, sender: false) is { } problem)
            {
                throw new AliasFileException($"{path}:{line}: '{name}': {problem}");
            }

            return new AliasTargetText(target, IsAddress: true, line);
        }

        if (!IsLocalName(target))
        {
            throw new AliasFileException($"{path}:{line}: '{name}': '{target}' is neither a local name nor an address");
        }

        return new AliasTargetText(target, IsAddress: false, line);
    }

    /// <summary>
    /// A dot-atom local part (RFC 5321 atext and dots, UTF-8 allowed), at most 64 octets, without
    /// '!' and '%', which RCPT TO refuses as routing characters (such an alias could never be reached).
    /// </summary>
    private static bool IsLocalName(string name)
    {
        if (name.Length == 0 || Encoding.UTF8.GetByteCount(name) > 64 || name[0] == '.' || name[^1] == '.' || name.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (char c in name)
        {
            bool atext = char.IsAsciiLetterOrDigit(c) || c > 0x7F || "#$&'*+-/=?^_`{|}~.".Contains(c);
            if (!atext || char.IsControl(c) || char.IsWhiteSpace(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The line of the last continuation that starts at or before <paramref name="offset"/> (binary search: the offsets ascend).</summary>
    private static int LineAt(List<(int Offset, int Line)> lineOfOffset, int offset)
    {
        int low = 0;
        int high = lineOfOffset.Count - 1;
        while (low < high)
        {
            int middle = (low + high + 1) / 2;
            if (lineOfOffset[middle].Offset <= offset)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return lineOfOffset[low].Line;
    }
}
