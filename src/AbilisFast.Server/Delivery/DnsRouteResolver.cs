using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DnsClient;
using DnsClient.Protocol;

namespace AbilisFast.Server.Delivery;

/// <summary>
/// <see cref="IMailRouteResolver"/> over DNS (DnsClient): MX lookup with RFC 5321 5.1 ordering,
/// implicit MX, RFC 7505 null MX, address literals and IDN domains (looked up by their A-labels).
/// DNS errors are mapped from the response header here (ThrowDnsErrors is off): NXDOMAIN is
/// permanent, SERVFAIL, REFUSED, timeouts and network errors are temporary.
/// </summary>
internal sealed class DnsRouteResolver : IMailRouteResolver
{
    /// <summary>Answers are cached at most this long, whatever their TTL.</summary>
    private static readonly TimeSpan MaxCacheTtl = TimeSpan.FromSeconds(60);

    private readonly LookupClient _client;

    /// <param name="nameServer">The resolver to ask; null = the machine's resolvers (production only).</param>
    /// <param name="timeout">Time allowed for one query.</param>
    /// <param name="retries">Further attempts of a query after a timeout.</param>
    public DnsRouteResolver(IPEndPoint? nameServer, TimeSpan timeout, int retries = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegative(retries);

        LookupClientOptions options = nameServer is null
            ? new LookupClientOptions()
            : new LookupClientOptions(nameServer) { AutoResolveNameServers = false };
        options.Timeout = timeout;
        options.Retries = retries;
        options.UseCache = true;
        options.MaximumCacheTimeout = MaxCacheTtl;
        options.CacheFailedResults = false;
        options.UseTcpFallback = true;
        options.ThrowDnsErrors = false;
        _client = new LookupClient(options);
    }

    /// <inheritdoc/>
    public async Task<ResolveResult> ResolveMxAsync(string domain, int port, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(domain);
        string name = domain.Trim();
        if (name.StartsWith('['))
        {
            return ResolveLiteral(name, port);
        }

        if (!TryToAscii(name, out string ascii))
        {
            return ResolveResult.Permanent($"5.1.2 {Printable(name)}: invalid domain name");
        }

        Lookup mx = await QueryAsync(ascii, QueryType.MX, cancellationToken).ConfigureAwait(false);
        if (mx.Outcome == LookupOutcome.Temporary)
        {
            return ResolveResult.Temporary("4.4.3 " + mx.Problem);
        }

        if (mx.Outcome == LookupOutcome.NotFound)
        {
            return ResolveResult.Permanent($"5.1.2 {ascii}: domain not found");
        }

        List<MxRecord> records = [.. mx.Response!.Answers.MxRecords()];
        if (records.Count == 0)
        {
            return await ResolveImplicitMxAsync(ascii, port, cancellationToken).ConfigureAwait(false);
        }

        if (records.Count == 1 && IsRoot(records[0].Exchange))
        {
            return ResolveResult.Permanent($"5.1.10 {ascii} has a null MX (RFC 7505): it accepts no mail");
        }

        List<(string Host, int Preference)> hosts = OrderMxHosts(records);
        if (hosts.Count == 0)
        {
            return ResolveResult.Permanent($"5.1.10 {ascii} has a null MX (RFC 7505): it accepts no mail");
        }

        return await ResolveMxHostsAsync(ascii, hosts, mx.Response.Additionals, port, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The addresses of every MX host at once (the answer's additional records first): the hosts
    /// that have some, in order; when none has, a temporary failure if a lookup failed, else permanent.
    /// </summary>
    private async Task<ResolveResult> ResolveMxHostsAsync(string ascii, List<(string Host, int Preference)> hosts,
        IReadOnlyList<DnsResourceRecord> additionals, int port, CancellationToken cancellationToken)
    {
        Task<HostAddresses>[] lookups = new Task<HostAddresses>[hosts.Count];
        for (int i = 0; i < hosts.Count; i++)
        {
            lookups[i] = ResolveAddressesAsync(hosts[i].Host, additionals, cancellationToken);
        }

        HostAddresses[] resolved = await Task.WhenAll(lookups).ConfigureAwait(false);
        List<DeliveryTarget> targets = [];
        string? temporary = null;
        for (int i = 0; i < hosts.Count; i++)
        {
            if (resolved[i].Addresses.Count > 0)
            {
                targets.Add(new DeliveryTarget(hosts[i].Host, hosts[i].Preference, resolved[i].Addresses, port));
            }
            else
            {
                temporary ??= resolved[i].Problem;
            }
        }

        if (targets.Count > 0)
        {
            return new ResolveResult(ResolveStatus.Ok, targets, Describe("MX " + ascii, targets, withPreference: true));
        }

        string names = string.Join(", ", hosts.Select(h => h.Host));
        return temporary is not null
            ? ResolveResult.Temporary($"4.4.3 no MX host of {ascii} could be resolved ({names}): {temporary}")
            : ResolveResult.Permanent($"5.4.4 {ascii}: no MX host has an address ({names})");
    }

    /// <inheritdoc/>
    public async Task<ResolveResult> ResolveHostAsync(string host, int port, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        string name = host.Trim();
        if (name.StartsWith('['))
        {
            return ResolveLiteral(name, port);
        }

        if (TryParseIp(name, out IPAddress? ip))
        {
            DeliveryTarget target = new(name, 0, [ip], port);
            return new ResolveResult(ResolveStatus.Ok, [target], $"{name}: {ip}");
        }

        if (!TryToAscii(name, out string ascii))
        {
            return ResolveResult.Permanent($"5.1.2 {Printable(name)}: invalid host name");
        }

        HostAddresses resolved = await ResolveAddressesAsync(ascii, [], cancellationToken).ConfigureAwait(false);
        if (resolved.Addresses.Count > 0)
        {
            DeliveryTarget target = new(ascii, 0, resolved.Addresses, port);
            return new ResolveResult(ResolveStatus.Ok, [target], Describe(ascii, [target], withPreference: false));
        }

        if (resolved.Problem is not null)
        {
            return ResolveResult.Temporary("4.4.3 " + resolved.Problem);
        }

        return resolved.NotFound
            ? ResolveResult.Permanent($"5.1.2 {ascii}: host not found")
            : ResolveResult.Permanent($"5.4.4 {ascii}: no address (A/AAAA) record");
    }

    /// <summary>No MX records: the domain itself is the mail host, with preference 0 (RFC 5321 5.1).</summary>
    private async Task<ResolveResult> ResolveImplicitMxAsync(string ascii, int port, CancellationToken cancellationToken)
    {
        HostAddresses resolved = await ResolveAddressesAsync(ascii, [], cancellationToken).ConfigureAwait(false);
        if (resolved.Addresses.Count > 0)
        {
            DeliveryTarget target = new(ascii, 0, resolved.Addresses, port);
            return new ResolveResult(ResolveStatus.Ok, [target], Describe($"no MX, implicit MX {ascii}", [target], withPreference: false));
        }

        if (resolved.Problem is not null)
        {
            return ResolveResult.Temporary("4.4.3 " + resolved.Problem);
        }

        return resolved.NotFound
            ? ResolveResult.Permanent($"5.1.2 {ascii}: domain not found")
            : ResolveResult.Permanent($"5.4.4 {ascii}: no MX and no address (A/AAAA) record");
    }

    /// <summary>
    /// MX hosts by preference, equal preferences shuffled, each host once (at its best preference);
    /// a "." exchange (null MX mixed with other records, a misconfiguration) is left out.
    /// </summary>
    private static List<(string Host, int Preference)> OrderMxHosts(List<MxRecord> records)
    {
        (string Host, int Preference, int Shuffle)[] all = new (string, int, int)[records.Count];
        for (int i = 0; i < records.Count; i++)
        {
            all[i] = (Normalize(records[i].Exchange.Value), records[i].Preference, Random.Shared.Next());
        }

        Array.Sort(all, static (a, b) => a.Preference != b.Preference ? a.Preference.CompareTo(b.Preference) : a.Shuffle.CompareTo(b.Shuffle));

        HashSet<string> seen = new(StringComparer.OrdinalIgnoreCase);
        List<(string Host, int Preference)> hosts = [];
        foreach ((string host, int preference, _) in all)
        {
            if (host.Length > 0 && seen.Add(host))
            {
                hosts.Add((host, preference));
            }
        }

        return hosts;
    }

    /// <summary>
    /// A and AAAA addresses of <paramref name="host"/> (IPv4 first): taken from
    /// <paramref name="additionals"/> for a family it holds, asked for otherwise.
    /// </summary>
    private async Task<HostAddresses> ResolveAddressesAsync(string host, IReadOnlyList<DnsResourceRecord> additionals, CancellationToken cancellationToken)
    {
        List<IPAddress> v4 = [];
        List<IPAddress> v6 = [];
        foreach (DnsResourceRecord record in additionals)
        {
            if (record is ARecord a && SameName(a.DomainName, host))
            {
                v4.Add(a.Address);
            }
            else if (record is AaaaRecord aaaa && SameName(aaaa.DomainName, host))
            {
                v6.Add(aaaa.Address);
            }
        }

        Task<Lookup>? queryA = v4.Count == 0 ? QueryAsync(host, QueryType.A, cancellationToken) : null;
        Task<Lookup>? queryAaaa = v6.Count == 0 ? QueryAsync(host, QueryType.AAAA, cancellationToken) : null;
        string? problem = null;
        bool notFound = false;
        if (queryA is not null)
        {
            Lookup lookup = await queryA.ConfigureAwait(false);
            Collect(lookup, v4, ref problem, ref notFound);
        }

        if (queryAaaa is not null)
        {
            Lookup lookup = await queryAaaa.ConfigureAwait(false);
            Collect(lookup, v6, ref problem, ref notFound);
        }

        List<IPAddress> addresses = [];
        foreach (IPAddress address in v4.Concat(v6))
        {
            if (!addresses.Contains(address))
            {
                addresses.Add(address);
            }
        }

        return new HostAddresses(addresses, addresses.Count > 0 ? null : problem, notFound);
    }

    /// <summary>The addresses of one A or AAAA answer into <paramref name="into"/>; a missing name or the first failure noted.</summary>
    private static void Collect(Lookup lookup, List<IPAddress> into, ref string? problem, ref bool notFound)
    {
        switch (lookup.Outcome)
        {
            case LookupOutcome.Answer:
                foreach (DnsResourceRecord record in lookup.Response!.Answers)
                {
                    if (record is ARecord a)
                    {
                        into.Add(a.Address);
                    }
                    else if (record is AaaaRecord aaaa)
                    {
                        into.Add(aaaa.Address);
                    }
                }

                break;
            case LookupOutcome.NotFound:
                notFound = true;
                break;
            default:
                problem ??= lookup.Problem;
                break;
        }
    }

    /// <summary>One query; the response code decides the outcome (ThrowDnsErrors is off).</summary>
    private async Task<Lookup> QueryAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(name, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DnsResponseException or SocketException or OperationCanceledException or TimeoutException)
        {
            // DnsClient reports a cancelled query as a DnsResponseException: give the caller its cancellation.
            cancellationToken.ThrowIfCancellationRequested();
            return e switch
            {
                DnsResponseException { Code: DnsResponseCode.ConnectionTimeout } => Lookup.Temporary($"DNS timeout for {name}"),
                DnsResponseException dns => Lookup.Temporary($"DNS error for {name} ({type}): {dns.DnsError}"),
                SocketException socket => Lookup.Temporary($"DNS network error for {name}: {socket.SocketErrorCode}"),
                _ => Lookup.Temporary($"DNS timeout for {name}"),
            };
        }

        return response.Header.ResponseCode switch
        {
            DnsHeaderResponseCode.NoError => new Lookup(LookupOutcome.Answer, response, null),
            DnsHeaderResponseCode.NotExistentDomain => new Lookup(LookupOutcome.NotFound, response, null),
            DnsHeaderResponseCode.ServerFailure => Lookup.Temporary($"DNS server failure (SERVFAIL) for {name}"),
            DnsHeaderResponseCode.Refused => Lookup.Temporary($"DNS query refused (REFUSED) for {name}"),
            DnsHeaderResponseCode code => Lookup.Temporary($"DNS error ({code}) for {name}"),
        };
    }

    /// <summary>"[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 4.1.3): the address itself, no DNS.</summary>
    private static ResolveResult ResolveLiteral(string literal, int port)
    {
        if (literal.Length < 3 || literal[^1] != ']')
        {
            return ResolveResult.Permanent($"5.1.2 {Printable(literal)}: invalid address literal");
        }

        string inner = literal[1..^1];
        bool v6 = inner.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase);
        string text = v6 ? inner[5..] : inner;
        if (!IPAddress.TryParse(text, out IPAddress? address)
            || address.AddressFamily != (v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork)
            || (!v6 && !IsDottedQuad(text))
            || (v6 && text.Contains('%')))
        {
            return ResolveResult.Permanent($"5.1.2 {Printable(literal)}: invalid address literal");
        }

        DeliveryTarget target = new(literal, 0, [address], port);
        return new ResolveResult(ResolveStatus.Ok, [target], $"{literal}: {address}");
    }

    /// <summary>An IP address written as one ("192.0.2.1", "2001:db8::1"), not a number IPAddress would also take.</summary>
    private static bool TryParseIp(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        if (IPAddress.TryParse(text, out address)
            && (address.AddressFamily == AddressFamily.InterNetworkV6 ? !text.Contains('%') : IsDottedQuad(text)))
        {
            return true;
        }

        address = null;
        return false;
    }

    private static bool IsDottedQuad(string text)
    {
        string[] parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit));
    }

    /// <summary>
    /// The name as DNS knows it: trailing dot dropped, non-ASCII labels as A-labels (IDNA, punycode).
    /// False for a name that cannot be one (empty, bad labels).
    /// </summary>
    internal static bool TryToAscii(string name, out string ascii)
    {
        string trimmed = name.EndsWith('.') ? name[..^1] : name;
        ascii = trimmed;
        if (trimmed.Length == 0)
        {
            return false;
        }

        if (Ascii.IsValid(trimmed))
        {
            return !trimmed.Contains("..", StringComparison.Ordinal) && !trimmed.StartsWith('.');
        }

        try
        {
            ascii = new IdnMapping().GetAscii(trimmed);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Describe(string title, List<DeliveryTarget> targets, bool withPreference)
    {
        StringBuilder text = new();
        text.Append(title).Append(':');
        for (int i = 0; i < targets.Count; i++)
        {
            DeliveryTarget target = targets[i];
            text.Append(i == 0 ? " " : ", ");
            if (withPreference)
            {
                text.Append(target.Host).Append(" (").Append(target.Preference.ToString(CultureInfo.InvariantCulture)).Append(") ");
            }

            text.AppendJoin(' ', target.Addresses);
        }

        return text.ToString();
    }

    private static bool IsRoot(DnsString exchange) => exchange.Value is "." or "";

    private static string Normalize(string name) => name.EndsWith('.') ? name[..^1] : name;

    private static bool SameName(DnsString recordName, string host) =>
        string.Equals(Normalize(recordName.Value), host, StringComparison.OrdinalIgnoreCase);

    /// <summary>A name from the caller, safe for a one-line ASCII detail.</summary>
    private static string Printable(string text)
    {
        StringBuilder printable = new(text.Length);
        foreach (char c in text)
        {
            printable.Append(c is >= ' ' and <= '~' ? c : '?');
        }

        return printable.ToString();
    }

    private enum LookupOutcome
    {
        /// <summary>NOERROR, with or without records.</summary>
        Answer,
        /// <summary>NXDOMAIN.</summary>
        NotFound,
        /// <summary>Timeout, SERVFAIL, REFUSED, network error.</summary>
        Temporary,
    }

    private readonly record struct Lookup(LookupOutcome Outcome, IDnsQueryResponse? Response, string? Problem)
    {
        public static Lookup Temporary(string problem) => new(LookupOutcome.Temporary, null, problem);
    }

    /// <summary>Addresses of one host; when there are none, the temporary problem met (if any) and whether the name does not exist.</summary>
    private readonly record struct HostAddresses(List<IPAddress> Addresses, string? Problem, bool NotFound);
}
