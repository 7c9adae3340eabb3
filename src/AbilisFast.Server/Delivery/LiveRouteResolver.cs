using System.Net;
using AbilisFast.Server.Runtime;

namespace AbilisFast.Server.Delivery;

/// <summary>
/// The DNS resolver of the settings in force: a change of the DNS parameter (<c>s p smtp DNS:…</c>)
/// takes effect at the next look-up.
/// </summary>
internal sealed class LiveRouteResolver(SmtpContext context) : IMailRouteResolver
{
    /// <summary>How long one DNS query may take before it counts as a temporary failure.</summary>
    public static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(5);

    private (IPEndPoint? Server, DnsRouteResolver Resolver)? _current;

    public Task<ResolveResult> ResolveMxAsync(string domain, int port, CancellationToken cancellationToken) =>
        Current().ResolveMxAsync(domain, port, cancellationToken);

    public Task<ResolveResult> ResolveHostAsync(string host, int port, CancellationToken cancellationToken) =>
        Current().ResolveHostAsync(host, port, cancellationToken);

    private DnsRouteResolver Current()
    {
        IPEndPoint? server = context.Settings.Dns;
        var current = _current;
        if (current is { } c && Equals(c.Server, server))
        {
            return c.Resolver;
        }

        var resolver = new DnsRouteResolver(server, QueryTimeout);
        _current = (server, resolver);
        return resolver;
    }
}
