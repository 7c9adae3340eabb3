using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AbilisFast.Server.Configuration;

/// <summary>Checks and normalises parameter value text, and converts it to typed values.</summary>
internal static class ParameterValues
{
    /// <summary>
    /// Validates <paramref name="text"/> for <paramref name="definition"/>. On success
    /// <paramref name="normalized"/> is the canonical text (upper-case YES/NO and enums, plain
    /// integers, trimmed lists); on failure <paramref name="reason"/> tells what is allowed.
    /// </summary>
    public static bool TryNormalize(
        ParameterDefinition definition,
        string text,
        NamedIpLists lists,
        out string normalized,
        out string reason)
    {
        normalized = text;
        reason = "allowed " + definition.Allowed;
        string trimmed = text.Trim();
        switch (definition.Kind)
        {
            case ParameterKind.YesNo:
                return TryChoice(trimmed, ["YES", "NO"], out normalized);

            case ParameterKind.Enum:
                return TryChoice(trimmed, definition.Choices, out normalized);

            case ParameterKind.Int:
            case ParameterKind.Port:
                return TryNormalizeInteger(trimmed, definition, ref normalized);

            case ParameterKind.PortOrNone:
                if (trimmed == "#")
                {
                    normalized = trimmed;
                    return true;
                }

                return TryNormalizeInteger(trimmed, definition, ref normalized);

            case ParameterKind.FreeText:
            case ParameterKind.Password:
                return IsFreeText(definition, text);

            case ParameterKind.NetList:
                return TryNormalizeNetList(trimmed, lists, ref normalized, ref reason);

            case ParameterKind.DomainList:
                return TryNormalizeDomains(trimmed, out normalized);

            case ParameterKind.PinList:
                return TryNormalizePins(trimmed, ref normalized);

            case ParameterKind.SelectorList:
                return TryNormalizeSelectors(trimmed, out normalized);

            case ParameterKind.NameList:
                normalized = string.Join(',', SplitList(trimmed));
                return SplitList(trimmed).All(IsUserName);

            case ParameterKind.PathList:
                normalized = string.Join(',', SplitList(trimmed));
                return SplitList(trimmed).All(IsPath) && (trimmed.Length > 0 || definition.AllowEmpty);

            default:
                normalized = trimmed;
                return IsValidText(definition, trimmed, lists, ref reason);
        }
    }

    /// <summary>The kinds whose canonical text is the trimmed text itself: is it valid?</summary>
    private static bool IsValidText(ParameterDefinition definition, string trimmed, NamedIpLists lists, ref string reason)
    {
        switch (definition.Kind)
        {
            case ParameterKind.Text:
                return (trimmed.Length == 0 && definition.AllowEmpty) || IsHostNameText(trimmed);

            case ParameterKind.Path:
                return trimmed.Length == 0 ? definition.AllowEmpty : IsPath(trimmed);

            case ParameterKind.Host:
                return trimmed.Length == 0 || TryParseAddress(trimmed, out _) || IsDomainName(trimmed);

            case ParameterKind.Address:
                return trimmed == "#" || TryParseAddress(trimmed, out _);

            case ParameterKind.IpListRef:
                return TryIpListReference(trimmed, definition, lists, ref reason);

            case ParameterKind.Endpoint:
                return trimmed.Length == 0 || TryParseEndpoint(trimmed, out _);

            case ParameterKind.IpAddress:
                return TryParseAddress(trimmed, out _);

            case ParameterKind.Delimiters:
                return trimmed.Length <= 4 && trimmed.All(c => c is '+' or '-' or '_' or '=' or '.')
                    && trimmed.Distinct().Count() == trimmed.Length;

            default:
                return false;
        }
    }

    /// <summary>
    /// Free text has no control characters; with a minimum length it is a bearer token (METRICS-TOKEN)
    /// that must fit an Authorization header: visible ASCII, no spaces, or empty.
    /// </summary>
    private static bool IsFreeText(ParameterDefinition definition, string text) =>
        definition.Min > 0
            ? text.Length == 0 || (text.Length >= definition.Min && text.Length <= definition.Max && text.All(c => c is > ' ' and < '\x7f'))
            : !HasControl(text);

    /// <summary>A user name as WDIR/users takes it: 1..32 letters, digits, '-', '_' or '.'.</summary>
    public static bool IsUserName(string name) =>
        name.Length is > 0 and <= 32 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>The items of a comma-separated list, trimmed, empty ones left out.</summary>
    public static string[] SplitList(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A DKIM selector (RFC 6376 3.1): dot-separated labels of letters, digits and '-', 1..63 characters each.</summary>
    public static bool IsSelector(ReadOnlySpan<char> text) => IsLdhName(text, out _);

    private static bool TryNormalizeSelectors(string text, out string normalized)
    {
        string[] selectors = SplitList(text);
        normalized = string.Join(',', selectors);
        return selectors.Length is >= 1 and <= 8
            && selectors.All(s => IsSelector(s))
            && selectors.Distinct(StringComparer.OrdinalIgnoreCase).Count() == selectors.Length;
    }

    /// <summary>A whole number within the definition's range, written without sign or leading zeros.</summary>
    private static bool TryNormalizeInteger(string trimmed, ParameterDefinition definition, ref string normalized)
    {
        if (TryParseInteger(trimmed, out long value) && value >= definition.Min && value <= definition.Max)
        {
            normalized = value.ToString(CultureInfo.InvariantCulture);
            return true;
        }

        return false;
    }

    /// <summary>A list of networks and IP list names, written in its normal form; the parser's reason when it is not one.</summary>
    private static bool TryNormalizeNetList(string trimmed, NamedIpLists lists, ref string normalized, ref string reason)
    {
        if (NetListSyntax.TryParse(trimmed, lists, out _, out string? netReason))
        {
            normalized = NetListSyntax.Normalize(trimmed);
            return true;
        }

        reason = netReason ?? reason;
        return false;
    }

    /// <summary>A comma list of SHA-256 pins, written as base64 (an empty list is allowed).</summary>
    private static bool TryNormalizePins(string trimmed, ref string normalized)
    {
        if (TryParsePins(trimmed, out IReadOnlyList<byte[]> pins))
        {
            normalized = string.Join(',', pins.Select(Convert.ToBase64String));
            return true;
        }

        return false;
    }

    /// <summary>"#" or the name of a defined IP list; a well-formed name of no list gets its own reason.</summary>
    private static bool TryIpListReference(string trimmed, ParameterDefinition definition, NamedIpLists lists, ref string reason)
    {
        if (trimmed == "#")
        {
            return true;
        }

        if (NamedIpLists.IsValidName(trimmed) && !lists.Contains(trimmed))
        {
            reason = $"{trimmed} is not a defined IP list; allowed {definition.Allowed}";
            return false;
        }

        return lists.Contains(trimmed);
    }

    /// <summary>Host-name characters: 1..255 ASCII letters, digits, '.', '-' or '_'.</summary>
    public static bool IsHostNameText(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || text.Length > 255)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '.' && c != '-' && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A DNS name of letter-digit-hyphen labels (1..63 characters, no leading or trailing hyphen),
    /// at most 253 characters, without a trailing dot. Not all digits (that would be an address).
    /// </summary>
    public static bool IsDomainName(ReadOnlySpan<char> text) => IsLdhName(text, out bool hasLetter) && hasLetter;

    /// <summary>
    /// Dot-separated letter-digit-hyphen labels, 1..63 characters each without a leading or trailing
    /// hyphen, at most 253 characters in all (RFC 1035 2.3.1, RFC 1123 2.1); <paramref name="hasLetter"/>:
    /// a letter or hyphen stands somewhere, so the name is not all digits.
    /// </summary>
    private static bool IsLdhName(ReadOnlySpan<char> text, out bool hasLetter)
    {
        hasLetter = false;
        if (text.IsEmpty || text.Length > 253)
        {
            return false;
        }

        foreach (Range range in text.Split('.'))
        {
            ReadOnlySpan<char> label = text[range];
            if (label.IsEmpty || label.Length > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (char c in label)
            {
                if (char.IsAsciiLetter(c) || c == '-')
                {
                    hasLetter = true;
                }
                else if (!char.IsAsciiDigit(c))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>A strict IP address: dotted-quad IPv4, or IPv6 (no zone, no brackets).</summary>
    public static bool TryParseAddress(string text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.Contains(':'))
        {
            if (text.Contains('%') || !IPAddress.TryParse(text, out IPAddress? v6)
                || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            address = v6;
            return true;
        }

        if (!IpNetwork.TryParseIPv4Address(text, out uint v4))
        {
            return false;
        }

        address = new IPAddress([(byte)(v4 >> 24), (byte)(v4 >> 16), (byte)(v4 >> 8), (byte)v4]);
        return true;
    }

    /// <summary><c>a.b.c.d[:port]</c>, <c>[v6]:port</c>, <c>[v6]</c> or a bare IPv6 address; port 53 by default.</summary>
    public static bool TryParseEndpoint(string text, out IPEndPoint endpoint)
    {
        endpoint = new IPEndPoint(IPAddress.None, 53);
        string host = text;
        string? port = null;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0)
            {
                return false;
            }

            host = text[1..close];
            string rest = text[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    return false;
                }

                port = rest[1..];
            }

            if (!host.Contains(':'))
            {
                return false;
            }
        }
        else if (text.IndexOf(':') is int colon and >= 0 && text.IndexOf(':', colon + 1) < 0)
        {
            host = text[..colon];
            port = text[(colon + 1)..];
        }

        if (!TryParseAddress(host, out IPAddress address))
        {
            return false;
        }

        long portNumber = 53;
        if (port is not null && (!TryParseInteger(port, out portNumber) || portNumber is < 1 or > 65535))
        {
            return false;
        }

        endpoint = new IPEndPoint(address, (int)portNumber);
        return true;
    }

    /// <summary>
    /// SERVER-TLS-PIN: empty, or base64 SHA-256 digests separated by commas (white space around
    /// each is ignored); each must decode to exactly 32 octets. At most 16.
    /// </summary>
    public static bool TryParsePins(string text, out IReadOnlyList<byte[]> pins)
    {
        var list = new List<byte[]>();
        pins = list;
        if (text.Trim().Length == 0)
        {
            return true;
        }

        foreach (string part in text.Split(','))
        {
            string pin = part.Trim();
            byte[] digest = new byte[32];
            if (pin.Length != 44 || list.Count == 16
                || !Convert.TryFromBase64String(pin, digest, out int written) || written != 32)
            {
                pins = [];
                return false;
            }

            list.Add(digest);
        }

        return true;
    }

    /// <summary>Splits a normalized LOCAL-DOMAIN value into its domains.</summary>
    public static string[] SplitDomains(string normalized) =>
        normalized.Length == 0 ? [] : normalized.Split(',');

    public static bool TryParseInteger(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 12)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }

    private static bool TryChoice(string text, IReadOnlyList<string> choices, out string normalized)
    {
        foreach (string choice in choices)
        {
            if (string.Equals(text, choice, StringComparison.OrdinalIgnoreCase))
            {
                normalized = choice;
                return true;
            }
        }

        normalized = text;
        return false;
    }

    private static bool TryNormalizeDomains(string text, out string normalized)
    {
        normalized = string.Empty;
        if (text.Length == 0 || text == "#")
        {
            return true;
        }

        var domains = new List<string>();
        foreach (string raw in text.Split(','))
        {
            string domain = raw.Trim();
            if (domain.EndsWith('.'))
            {
                domain = domain[..^1];
            }

            // An internationalised name is kept in its ASCII form (A-labels, lower case), as DNS and
            // DKIM's d= need it; an ASCII name is kept as written.
            if (DomainSet.TryToAscii(domain) is not { } ascii || !IsDomainName(ascii))
            {
                return false;
            }

            if (!domains.Any(d => string.Equals(DomainSet.TryToAscii(d), ascii, StringComparison.Ordinal)))
            {
                domains.Add(System.Text.Ascii.IsValid(domain) ? domain : ascii);
            }
        }

        normalized = string.Join(',', domains);
        return true;
    }

    private static bool HasControl(string text)
    {
        foreach (char c in text)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsPath(string text)
    {
        if (HasControl(text) || text.AsSpan().IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
        {
            return false;
        }

        try
        {
            _ = System.IO.Path.GetFullPath(text);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return false;
        }
    }
}
