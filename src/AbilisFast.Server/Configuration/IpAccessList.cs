using System.Net;

namespace AbilisFast.Server.Configuration;

/// <summary>An immutable set of IP networks. <see cref="Contains"/> does not allocate.</summary>
internal sealed class IpAccessList
{
    private readonly IpNetwork[] _networks;

    public IpAccessList(IEnumerable<IpNetwork> networks)
    {
        _networks = networks.Distinct().ToArray();
    }

    public static IpAccessList Empty { get; } = new([]);

    public IReadOnlyList<IpNetwork> Networks => _networks;

    public bool IsEmpty => _networks.Length == 0;

    public bool Contains(IPAddress address)
    {
        foreach (IpNetwork network in _networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    public IpAccessList Union(IpAccessList other) =>
        other.IsEmpty ? this : IsEmpty ? other : new IpAccessList(_networks.Concat(other._networks));

    public override string ToString() => IsEmpty ? "#" : string.Join(',', _networks);
}
