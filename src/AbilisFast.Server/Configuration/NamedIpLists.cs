namespace AbilisFast.Server.Configuration;

/// <summary>
/// Named IP lists (Abilis "IP lists"), looked up case-insensitively. The built-in list
/// <c>PrivateIpAdd</c> holds 10/8, 172.16/12, 192.168/16 and 127/8, plus ::1/128 (ours: the
/// appliance's list is IPv4 only, but the IPv6 loopback is as local as 127/8).
/// </summary>
internal sealed class NamedIpLists
{
    public const string PrivateIpAdd = "PrivateIpAdd";

    private readonly Dictionary<string, Entry> _lists = new(StringComparer.OrdinalIgnoreCase);

    public NamedIpLists()
    {
        _lists[PrivateIpAdd] = new Entry(PrivateIpAdd, BuiltInPrivate, "10/8, 172.16/12, 192.168/16, 127/8, ::1/128", "built-in");
    }

    public static IpAccessList BuiltInPrivate { get; } = new(
    [
        IpNetwork.Parse("10/8"),
        IpNetwork.Parse("172.16/12"),
        IpNetwork.Parse("192.168/16"),
        IpNetwork.Parse("127/8"),
        IpNetwork.Parse("::1/128"),
    ]);

    public IEnumerable<string> Names => _lists.Values.Select(e => e.Name);

    public bool TryGet(string name, out IpAccessList list)
    {
        if (_lists.TryGetValue(name, out Entry? entry))
        {
            list = entry.List;
            return true;
        }

        list = IpAccessList.Empty;
        return false;
    }

    public bool Contains(string name) => _lists.ContainsKey(name);

    /// <summary>The definition text and source of a list, for display.</summary>
    public (string Text, string Source) Describe(string name) =>
        _lists.TryGetValue(name, out Entry? e) ? (e.Text, e.Source) : throw new KeyNotFoundException(name);

    /// <summary>
    /// Defines or replaces a list. <paramref name="text"/> holds comma-separated networks or names
    /// of lists defined before (expanded now), never the list's own name (a redefinition that names
    /// the list it replaces could not be saved: the saved line would name itself); empty or
    /// <c>#</c> defines an empty list, kept as <c>#</c> (so <c>save conf</c>, which writes
    /// <c>iplist NAME: #</c>, reads back the same text).
    /// </summary>
    public bool TryDefine(string name, string text, string source, out string error)
    {
        if (!IsValidName(name))
        {
            error = $"{source}: iplist {name} is invalid: a list name is 1..32 letters, digits, '-' or '_', starting with a letter";
            return false;
        }

        if (NamesItself(name, text))
        {
            error = $"{source}: iplist {name}:{text} is invalid: {name} names the list being defined; allowed {NetListSyntax.Allowed}";
            return false;
        }

        if (!NetListSyntax.TryParse(text, this, out IpAccessList list, out string? reason))
        {
            error = $"{source}: iplist {name}:{text} is invalid: {reason}";
            return false;
        }

        string canonical = text.Trim();
        _lists[name] = new Entry(name, list, canonical.Length == 0 ? "#" : canonical, source);
        error = string.Empty;
        return true;
    }

    private static bool NamesItself(string name, string text)
    {
        foreach (string item in text.Split(','))
        {
            if (string.Equals(item.Trim(), name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static bool IsValidName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > 32 || !char.IsAsciiLetter(name[0]))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    private sealed record Entry(string Name, IpAccessList List, string Text, string Source);
}
