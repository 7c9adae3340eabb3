using System.Globalization;

namespace AbilisFast.Server.Configuration;

/// <summary>
/// The IPBAN parameters as <c>NAME:VALUE</c> text, for <c>s p ipban</c> and <c>d p ipban</c>, the
/// file's <c>ipban NAME:VALUE</c> lines and the command line's <c>IPBAN:NAME:VALUE</c>:
/// MAX-FAIL (1..1000, default 10), FIND-TIME (minutes, 1..525600, 1440), BAN-TIME (minutes,
/// 1..5256000, 10080), WHITE-LIST (nets and IP lists, or #; PrivateIpAdd), ACTION (BAN, MAIL or
/// BOTH; BAN) and, ours, ALERT-TO (the alert mail's recipients, comma-separated; postmaster).
/// </summary>
internal static class IpBanParameters
{
    public const string MaxFail = "MAX-FAIL";
    public const string FindTime = "FIND-TIME";
    public const string BanTime = "BAN-TIME";
    public const string WhiteList = "WHITE-LIST";
    public const string Action = "ACTION";
    public const string AlertTo = "ALERT-TO";

    /// <summary>At most this many ALERT-TO recipients.</summary>
    public const int MaxAlertRecipients = 32;

    public static IReadOnlyList<string> Names { get; } = [MaxFail, FindTime, BanTime, WhiteList, Action, AlertTo];

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
        string key = name.Trim().ToUpperInvariant();
        string text = value.Trim();
        switch (key)
        {
            case MaxFail:
                return TryInt(key, text, 1, 1000, out int maxFail, out error)
                    && Set(options with { MaxFail = maxFail }, out updated);
            case FindTime:
                return TryInt(key, text, 1, 525600, out int findTime, out error)
                    && Set(options with { FindTimeMinutes = findTime }, out updated);
            case BanTime:
                return TryInt(key, text, 1, 5256000, out int banTime, out error)
                    && Set(options with { BanTimeMinutes = banTime }, out updated);
            case WhiteList:
                if (!NetListSyntax.TryParse(text, lists, out IpAccessList list, out string? reason))
                {
                    error = $"{key}:{text} is invalid: {reason}";
                    return false;
                }

                return Set(options with { WhiteList = list, WhiteListText = NetListSyntax.Normalize(text) }, out updated);
            case Action:
                if (!TryAction(text, out IpBanAction action))
                {
                    error = $"{key}:{text} is invalid: allowed BAN, MAIL or BOTH";
                    return false;
                }

                return Set(options with { Action = action }, out updated);
            case AlertTo:
                if (!TryAlertTo(text, out IReadOnlyList<string> recipients, out string? why))
                {
                    error = $"{key}:{text} is invalid: {why}";
                    return false;
                }

                return Set(options with { AlertTo = recipients }, out updated);
            default:
                error = $"{name.Trim()} is not an IPBAN parameter; allowed {string.Join(", ", Names)}";
                return false;
        }
    }

    /// <summary>The parameters as <c>NAME:VALUE</c> lines, in display order.</summary>
    public static IReadOnlyList<string> Format(IpBanOptions options) =>
    [
        $"{MaxFail}:{options.MaxFail.ToString(CultureInfo.InvariantCulture)}",
        $"{FindTime}:{options.FindTimeMinutes.ToString(CultureInfo.InvariantCulture)}",
        $"{BanTime}:{options.BanTimeMinutes.ToString(CultureInfo.InvariantCulture)}",
        $"{WhiteList}:{options.WhiteListText}",
        $"{Action}:{ActionText(options.Action)}",
        $"{AlertTo}:{string.Join(',', options.AlertTo)}",
    ];

    /// <summary>The <c>NAME:VALUE</c> line of one parameter as <see cref="Format"/> shows it.</summary>
    public static string FormatOne(IpBanOptions options, string name)
    {
        string prefix = name.Trim().ToUpperInvariant() + ":";
        return Format(options).First(l => l.StartsWith(prefix, StringComparison.Ordinal));
    }

    private static bool TryInt(string key, string text, int min, int max, out int value, out string error)
    {
        value = 0;
        error = string.Empty;
        if (ParameterValues.TryParseInteger(text, out long parsed) && parsed >= min && parsed <= max)
        {
            value = (int)parsed;
            return true;
        }

        error = $"{key}:{text} is invalid: allowed {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}";
        return false;
    }

    public static string ActionText(IpBanAction action) => action switch
    {
        IpBanAction.Ban => "BAN",
        IpBanAction.Mail => "MAIL",
        _ => "BOTH",
    };

    private static bool TryAction(string text, out IpBanAction action)
    {
        action = text.ToUpperInvariant() switch
        {
            "BAN" => IpBanAction.Ban,
            "MAIL" => IpBanAction.Mail,
            "BOTH" => IpBanAction.Both,
            _ => 0,
        };
        return action != 0;
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

    private static bool Set(IpBanOptions value, out IpBanOptions updated)
    {
        updated = value;
        return true;
    }
}
