using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace AbilisFast.Server.Delivery;

/// <summary>
/// Whether a next hop is this server itself, so that a delivery would only loop back here: its
/// address and port are one of the listening sockets (TCP-LOCPORT, TLS-PORT). A listener bound to
/// a wildcard address (<c>[::]</c>, <c>0.0.0.0</c>) is reached at every local interface address,
/// the whole of 127.0.0.0/8, ::1, and the unspecified address itself. Postfix's "mail for X loops
/// back to myself" check is the model; the port is compared too, since several servers may share
/// one host on different ports.
/// </summary>
internal static class SelfRoute
{
    private static readonly TimeSpan InterfaceCacheTime = TimeSpan.FromSeconds(10);
    private static readonly Lock CacheLock = new();
    private static (long Taken, HashSet<IPAddress> Addresses)? _interfaces;

    /// <summary>True when <paramref name="target"/> reaches one of <paramref name="listeners"/>.</summary>
    public static bool IsSelf(IPEndPoint target, IReadOnlyList<IPEndPoint> listeners, Func<IReadOnlySet<IPAddress>>? interfaces = null)
    {
        IPAddress address = Normalize(target.Address);
        foreach (IPEndPoint listener in listeners)
        {
            if (listener.Port != target.Port)
            {
                continue;
            }

            IPAddress bound = listener.Address;
            if (bound.Equals(IPAddress.IPv6Any) || bound.Equals(IPAddress.Any))
            {
                // [::] is dual-stack here (see Listener.Bind); 0.0.0.0 takes IPv4 only.
                if (bound.Equals(IPAddress.Any) && address.AddressFamily != AddressFamily.InterNetwork)
                {
                    continue;
                }

                if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
                    || (interfaces ?? InterfaceAddresses)().Contains(WithoutScope(address)))
                {
                    return true;
                }
            }
            else if (WithoutScope(Normalize(bound)).Equals(WithoutScope(address)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The part of a route that does not loop back. A relay server keeps its addresses that are
    /// not this server. MX hosts follow RFC 5321 5.1: when one of them is this server, it and every
    /// host of the same or a less preferred (higher) preference are dropped, and only the more
    /// preferred hosts remain. <paramref name="self"/> names the host (and address) found to be
    /// this server, or is null when none was.
    /// </summary>
    public static IReadOnlyList<DeliveryTarget> WithoutSelf(IReadOnlyList<DeliveryTarget> targets, bool relayServer,
        Func<IPEndPoint, bool> isSelf, out string? self)
    {
        self = null;
        if (relayServer)
        {
            var kept = new List<DeliveryTarget>(targets.Count);
            foreach (DeliveryTarget target in targets)
            {
                var addresses = new List<IPAddress>(target.Addresses.Count);
                foreach (IPAddress address in target.Addresses)
                {
                    if (isSelf(new IPEndPoint(address, target.Port)))
                    {
                        self ??= Describe(target, address);
                    }
                    else
                    {
                        addresses.Add(address);
                    }
                }

                if (addresses.Count > 0)
                {
                    kept.Add(addresses.Count == target.Addresses.Count ? target : target with { Addresses = addresses });
                }
            }

            return kept;
        }

        int? selfPreference = null;
        foreach (DeliveryTarget target in targets)
        {
            foreach (IPAddress address in target.Addresses)
            {
                if (isSelf(new IPEndPoint(address, target.Port)) && (selfPreference is null || target.Preference < selfPreference))
                {
                    selfPreference = target.Preference;
                    self = Describe(target, address);
                }
            }
        }

        return selfPreference is int preference ? [.. targets.Where(t => t.Preference < preference)] : targets;
    }

    private static string Describe(DeliveryTarget target, IPAddress address) =>
        $"{target.Host} [{address}]:{target.Port}";

    /// <summary>The addresses of this host's network interfaces (looked up at most every 10 seconds).</summary>
    [SuppressMessage("Performance", "CA1859", Justification = "The set is cached and shared: callers get it read-only.")]
    private static IReadOnlySet<IPAddress> InterfaceAddresses()
    {
        long now = Environment.TickCount64;
        lock (CacheLock)
        {
            if (_interfaces is { } cached && now - cached.Taken < (long)InterfaceCacheTime.TotalMilliseconds)
            {
                return cached.Addresses;
            }

            var addresses = new HashSet<IPAddress>();
            try
            {
                foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
                {
                    foreach (UnicastIPAddressInformation unicast in nic.GetIPProperties().UnicastAddresses)
                    {
                        addresses.Add(WithoutScope(Normalize(unicast.Address)));
                    }
                }
            }
            catch (NetworkInformationException)
            {
                // No interface list: loopback and the listeners' own addresses are still recognised.
            }

            _interfaces = (now, addresses);
            return addresses;
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>An IPv6 address without its scope id (fe80::1%2 and fe80::1 are the same interface address here).</summary>
    private static IPAddress WithoutScope(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes()) : address;
}
