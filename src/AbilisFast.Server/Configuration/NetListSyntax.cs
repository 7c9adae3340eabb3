namespace AbilisFast.Server.Configuration;

/// <summary>
/// Parses network lists: <c>#</c> (none), or comma-separated items, each a network
/// (<see cref="IpNetwork.TryParse"/>) or the name of a defined IP list.
/// </summary>
internal static class NetListSyntax
{
    public const string Allowed =
        "#, or comma-separated a.b.c.d/n (short forms like 127/8), IPv6/n, addresses or IP list names";

    public static bool TryParse(string text, NamedIpLists lists, out IpAccessList result, out string? reason)
    {
        result = IpAccessList.Empty;
        reason = null;
        string trimmed = text.Trim();
        if (trimmed.Length == 0 || trimmed == "#")
        {
            return true;
        }

        var networks = new List<IpNetwork>();
        foreach (string raw in trimmed.Split(','))
        {
            string item = raw.Trim();
            if (IpNetwork.TryParse(item, out IpNetwork network))
            {
                networks.Add(network);
            }
            else if (NamedIpLists.IsValidName(item))
            {
                if (!lists.TryGet(item, out IpAccessList named))
                {
                    reason = $"{item} is not a defined IP list; allowed {Allowed}";
                    return false;
                }

                networks.AddRange(named.Networks);
            }
            else
            {
                reason = $"allowed {Allowed}";
                return false;
            }
        }

        result = new IpAccessList(networks);
        return true;
    }

    /// <summary>The canonical text: items trimmed and joined by commas; empty becomes <c>#</c>.</summary>
    public static string Normalize(string text)
    {
        string trimmed = text.Trim();
        if (trimmed.Length == 0 || trimmed == "#")
        {
            return "#";
        }

        return string.Join(',', trimmed.Split(',').Select(s => s.Trim()));
    }
}
