using System.Net;

namespace AbilisFast.Server.Delivery;

/// <summary>
/// One SMTP reply as the client side read it: the three-digit code and the text of every line
/// after the code (lines joined with a single space). <see cref="EnhancedStatus"/> is the RFC 3463
/// code at the start of the text when the server sent one.
/// </summary>
internal sealed record SmtpReply(int Code, string Text)
{
    public bool IsPositive => Code is >= 200 and < 400;
    public bool IsTransient => Code is >= 400 and < 500;
    public bool IsPermanent => Code >= 500;

    /// <summary>"x.y.z" taken from the start of the text, or null.</summary>
    public string? EnhancedStatus => LeadingEnhancedStatus(Text);

    /// <summary>The RFC 3463 code "x.y.z" that starts <paramref name="text"/>, or null.</summary>
    public static string? LeadingEnhancedStatus(string text)
    {
        int space = text.IndexOf(' ');
        string first = space < 0 ? text : text[..space];
        return IsEnhancedStatus(first) ? first : null;
    }

    public override string ToString() => Text.Length == 0 ? Code.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Code} {Text}";

    private static bool IsEnhancedStatus(string s)
    {
        string[] parts = s.Split('.');
        return parts.Length == 3
            && parts[0] is "2" or "4" or "5"
            && parts[1].Length is >= 1 and <= 3 && parts[1].All(char.IsAsciiDigit)
            && parts[2].Length is >= 1 and <= 3 && parts[2].All(char.IsAsciiDigit);
    }
}

/// <summary>RFC 3461 NOTIFY= of one recipient; None = the client gave no NOTIFY parameter.</summary>
[Flags]
internal enum DsnNotify : byte
{
    None = 0,
    Never = 1,
    Success = 2,
    Failure = 4,
    Delay = 8,
}

/// <summary>RFC 3461 RET=: what a failure notification returns of the original message.</summary>
internal enum DsnReturn : byte
{
    /// <summary>Not given: headers only (our default).</summary>
    Unspecified = 0,
    Full = 1,
    Headers = 2,
}

/// <summary>
/// One recipient of an outgoing transaction, with the DSN parameters that travel with it when the
/// next hop offers DSN. <see cref="OriginalRecipient"/> is the ORCPT value as received
/// ("rfc822;user@example.com", still xtext-encoded), or null.
/// </summary>
internal sealed record OutboundRecipient(string Address, DsnNotify Notify = DsnNotify.None, string? OriginalRecipient = null);

/// <summary>Outcome class of a route lookup.</summary>
internal enum ResolveStatus
{
    Ok,
    /// <summary>The domain cannot receive mail (NXDOMAIN, null MX, no MX and no address): bounce.</summary>
    PermanentFailure,
    /// <summary>Timeout, SERVFAIL, refused, network error: try again later.</summary>
    TemporaryFailure,
}

/// <summary>One host to try, in order: its name, its MX preference (0 for a relay server or an implicit MX), its addresses.</summary>
internal sealed record DeliveryTarget(string Host, int Preference, IReadOnlyList<IPAddress> Addresses, int Port);

/// <summary>The hosts to try for a domain or relay server, in the order to try them, or why there are none.</summary>
internal sealed record ResolveResult(ResolveStatus Status, IReadOnlyList<DeliveryTarget> Targets, string Detail)
{
    public static ResolveResult Permanent(string detail) => new(ResolveStatus.PermanentFailure, [], detail);
    public static ResolveResult Temporary(string detail) => new(ResolveStatus.TemporaryFailure, [], detail);
}

/// <summary>
/// Where mail for a domain goes. The production implementation asks DNS (DnsClient) at the DNS
/// parameter's resolver; tests point it at a resolver on loopback.
/// </summary>
internal interface IMailRouteResolver
{
    /// <summary>
    /// The MX hosts of <paramref name="domain"/> by preference (RFC 5321 5.1): equal preferences in
    /// random order, each with its A/AAAA addresses; no MX = the domain itself as implicit MX;
    /// a null MX (RFC 7505), NXDOMAIN or no address at all = permanent; timeout/SERVFAIL = temporary.
    /// An address literal ("[192.0.2.1]", "[IPv6:::1]") is used as it is.
    /// </summary>
    Task<ResolveResult> ResolveMxAsync(string domain, int port, CancellationToken cancellationToken);

    /// <summary>
    /// The addresses of a relay server name (A and AAAA); an IP address is used as it is.
    /// </summary>
    Task<ResolveResult> ResolveHostAsync(string host, int port, CancellationToken cancellationToken);
}
