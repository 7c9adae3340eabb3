using System.Net;

namespace AbilisFast.Server.Access;

/// <summary>
/// The IPBAN service as the accept path sees it: a banned address is dropped at accept and counted
/// BANNED-IP. The admin console's IPBAN (failed logins, FIND-TIME, BAN-TIME) implements this.
/// </summary>
internal interface IBanList
{
    bool IsBanned(IPAddress address);
}

/// <summary>No bans: the list used until IPBAN is configured.</summary>
internal sealed class EmptyBanList : IBanList
{
    public static readonly EmptyBanList Instance = new();

    public bool IsBanned(IPAddress address) => false;
}
