using System.Net;
using System.Net.Sockets;

namespace AbilisFast.Server.Configuration;

/// <summary>
/// The one form in which a client's address is used and shown. A dual-stack listener ([::]) sees
/// an IPv4 client as IPv4-mapped IPv6 (::ffff:a.b.c.d); that becomes plain IPv4 here, so IPBAN,
/// IPSRC/IPSRCLIST, RELAY-NET, MAX-IP-SES, the Received: field, the session log and the console all
/// see 192.0.2.1 whether the client came in over an IPv4 or a dual-stack socket. An IPv6 scope id
/// (fe80::1%2) is dropped: it names a local interface, not the client.
/// </summary>
internal static class PeerAddress
{
    public static IPAddress Normalize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0
            ? new IPAddress(address.GetAddressBytes())
            : address;
    }

    /// <summary>
    /// The key a client is counted by (MAX-IP-SES, IPBAN): an IPv4 address itself; an IPv6 address
    /// cut to its first <paramref name="ipv6PrefixLength"/> bits (IPV6-PREFIX-SES, 64 by default), since
    /// one subscriber or one virtual machine usually holds a whole /64 and picks any address in it.
    /// <paramref name="address"/> is already normalised.
    /// </summary>
    public static IPAddress CountingKey(IPAddress address, int ipv6PrefixLength)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || ipv6PrefixLength >= 128)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        int prefix = Math.Max(0, ipv6PrefixLength);
        int whole = prefix / 8;
        if (whole < 16)
        {
            bytes[whole] &= (byte)(0xFF << (8 - (prefix % 8)));
            bytes[(whole + 1)..].Clear();
        }

        return new IPAddress(bytes);
    }

    /// <summary>The end point with its address normalised (null stays null).</summary>
    public static IPEndPoint? Normalize(IPEndPoint? endPoint)
    {
        if (endPoint is null)
        {
            return null;
        }

        IPAddress address = Normalize(endPoint.Address);
        return ReferenceEquals(address, endPoint.Address) ? endPoint : new IPEndPoint(address, endPoint.Port);
    }

    /// <summary>The remote address of an accepted socket, normalised; <see cref="IPAddress.None"/> when it has none.</summary>
    public static IPAddress Of(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint is IPEndPoint remote ? Normalize(remote.Address) : IPAddress.None;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return IPAddress.None;
        }
    }

    /// <summary>
    /// The address literal of RFC 5321 4.1.3 without its brackets: <c>192.0.2.1</c>, or
    /// <c>IPv6:2001:db8::1</c> (IPv6 literals carry the tag). Writes into <paramref name="destination"/>.
    /// </summary>
    public static bool TryFormatLiteral(IPAddress address, Span<byte> destination, out int written)
    {
        written = 0;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (destination.Length < 5)
            {
                return false;
            }

            "IPv6:"u8.CopyTo(destination);
            written = 5;
        }

        if (!address.TryFormat(destination[written..], out int n))
        {
            written = 0;
            return false;
        }

        written += n;
        return true;
    }

    /// <summary>"[192.0.2.1]:25" or "[IPv6:::1]:25" as the session log shows a client.</summary>
    public static string FormatForLog(IPEndPoint endPoint)
    {
        Span<byte> literal = stackalloc byte[64];
        return TryFormatLiteral(endPoint.Address, literal, out int n)
            ? $"[{System.Text.Encoding.ASCII.GetString(literal[..n])}]:{endPoint.Port}"
            : $"[{endPoint.Address}]:{endPoint.Port}";
    }
}
