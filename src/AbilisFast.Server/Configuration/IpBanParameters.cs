using System.Globalization;

namespace AbilisFast.Server.Configuration;

/// <summary>
/// The IPBAN parameters as <c>NAME:VALUE</c> text, for <c>s p ipban</c> and <c>d p ipban</c>, the
/// file's <c>ipban NAME:VALUE</c> lines and the command line's <c>IPBAN:NAME:VALUE</c>. One row of
/// <see cref="Table"/> a parameter, in display order: its name, how a value is read into
/// <see cref="IpBanOptions"/> (the defaults are there) and how it is shown. ALERT-TO is ours.
/// </summary>
internal static class IpBanParameters
{
    /// <summary>At most this many ALERT-TO recipients.</summary>
    public const int MaxAlertRecipients = 32;

    /// <summary>Reads <paramref name="text"/> into <paramref name="options"/>; null, or why the value is refused.</summary>
    private delegate string? Setter(IpBanOptions options, string text, NamedIpLists lists, out IpBanOptions updated);

    // A class, not a record: a record's equality, hashing and printing members are code the AOT
    // binary would carry for nothing (see docs/performance.md, The binary's bytes).
    private sealed class Parameter(string name, Setter set, Func<IpBanOptions, string> show)
    {
        public string Name { get; } = name;

        public Setter Set { get; } = set;

        public Func<IpBanOptions, string> Show { get; } = show;
    }

    private static readonly Parameter[] Table =
    [
        Whole("MAX-FAIL", 1, 1000, o => o.MaxFail, (o, v) => o with { MaxFail = v }),
        Whole("FIND-TIME", 1, 525600, o => o.FindTimeMinutes, (o, v) => o with { FindTimeMinutes = v }),
        Whole("BAN-TIME", 1, 5256000, o => o.BanTimeMinutes, (o, v) => o with { BanTimeMinutes = v }),
        new("WHITE-LIST", SetWhiteList, o => o.WhiteListText),
        new("ACTION", SetAction, o => ActionText(o.Action)),
        new("ALERT-TO", SetAlertTo, o => string.Join(',', o.AlertTo)),
    ];

    public static IReadOnlyList<string> Names { get; } = Array.ConvertAll(Table, p => p.Name);

    /// <summary>Sets one parameter; WHITE-LIST may name only the built-in lists.</summary>
    public static bool TrySet(IpBanOptions options, string name, string value, out IpBanOptions updated, out string error) =>
        TrySet(options, name, value, new NamedIpLists(), out updated, out error);

    /// <summary>
    /// Sets one parameter. On failure <paramref name="updated"/> is <paramref name="options"/> and
    /// <paramref name="error"/> is one line: <c>NAME:VALUE is invalid: allowed …</c>.
    /// </summary>
    public static bool TrySet(
        IpBanOptions options, string name, string value, NamedIpLists lists, out IpBanOptions updated, out string error)
    {
        updated = options;
        error = string.Empty;
        string text = value.Trim();
        if (Find(name) is not { } parameter)
        {
            error = $"{name.Trim()} is not an IPBAN parameter; allowed {string.Join(", ", Names)}";
            return false;
        }

        if (parameter.Set(options, text, lists, out IpBanOptions next) is { } why)
        {
            error = $"{parameter.Name}:{text} is invalid: {why}";
            return false;
        }

        updated = next;
        return true;
    }

    /// <summary>The parameters as <c>NAME:VALUE</c> lines, in display order.</summary>
    public static IReadOnlyList<string> Format(IpBanOptions options) =>
        Array.ConvertAll(Table, p => Line(p, options));

    /// <summary>The <c>NAME:VALUE</c> line of one parameter as <see cref="Format"/> shows it.</summary>
    public static string FormatOne(IpBanOptions options, string name) =>
        Line(Find(name) ?? throw new KeyNotFoundException(name), options);

    public static string ActionText(IpBanAction action) => action switch
    {
        IpBanAction.Ban => "BAN",
        IpBanAction.Mail => "MAIL",
        _ => "BOTH",
    };

    private static string Line(Parameter parameter, IpBanOptions options) => $"{parameter.Name}:{parameter.Show(options)}";

    private static Parameter? Find(string name)
    {
        string key = name.Trim();
        return Array.Find(Table, p => p.Name.Equals(key, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A whole number within <paramref name="min"/>..<paramref name="max"/> (MAX-FAIL, and the times in minutes).</summary>
    private static Parameter Whole(
        string name, int min, int max, Func<IpBanOptions, int> get, Func<IpBanOptions, int, IpBanOptions> with)
    {
        return new(name, SetWhole, o => get(o).ToString(CultureInfo.InvariantCulture));

        string? SetWhole(IpBanOptions options, string text, NamedIpLists lists, out IpBanOptions updated)
        {
            bool ok = ParameterValues.TryParseInteger(text, out long parsed) && parsed >= min && parsed <= max;
            updated = ok ? with(options, (int)parsed) : options;
            return ok ? null : $"allowed {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}";
        }
    }

    private static string? SetWhiteList(IpBanOptions options, string text, NamedIpLists lists, out IpBanOptions updated)
    {
        bool ok = NetListSyntax.TryParse(text, lists, out IpAccessList list, out string? reason);
        updated = ok ? options with { WhiteList = list, WhiteListText = NetListSyntax.Normalize(text) } : options;
        return reason;
    }

    private static string? SetAction(IpBanOptions options, string text, NamedIpLists lists, out IpBanOptions updated)
    {
        IpBanAction action = text.ToUpperInvariant() switch
        {
            "BAN" => IpBanAction.Ban,
            "MAIL" => IpBanAction.Mail,
            "BOTH" => IpBanAction.Both,
            _ => 0,
        };
        updated = action != 0 ? options with { Action = action } : options;
        return action != 0 ? null : "allowed BAN, MAIL or BOTH";
    }

    private static string? SetAlertTo(IpBanOptions options, string text, NamedIpLists lists, out IpBanOptions updated)
    {
        bool ok = TryAlertTo(text, out IReadOnlyList<string> recipients, out string? why);
        updated = ok ? options with { AlertTo = recipients } : options;
        return why;
    }

    /// <summary>
    /// ALERT-TO: mail addresses separated by commas (angle brackets optional), each one that
    /// RCPT TO would take; a bare local part such as <c>postmaster</c> is a local mailbox.
    /// </summary>
    private static bool TryAlertTo(string text, out IReadOnlyList<string> recipients, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? why)
    {
        recipients = [];
        why = null;
        const string Allowed = "allowed one or more mail addresses separated by commas";
        var list = new List<string>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            string address = part.Length >= 2 && part[0] == '<' && part[^1] == '>' ? part[1..^1].Trim() : part;
            if (address.Length == 0)
            {
                why = Allowed;
                return false;
            }

            if (AddressSyntax.Check(address, sender: false) is { } bad)
            {
                why = $"{bad}; {Allowed}";
                return false;
            }

            if (!list.Contains(address, StringComparer.OrdinalIgnoreCase))
            {
                list.Add(address);
            }
        }

        if (list.Count > MaxAlertRecipients)
        {
            why = $"{Allowed}, at most {MaxAlertRecipients.ToString(CultureInfo.InvariantCulture)}";
            return false;
        }

        recipients = list;
        return true;
    }
}
