using System.Net;

namespace AbilisFast.Server.Delivery;

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
