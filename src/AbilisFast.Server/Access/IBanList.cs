using System.Net;

namespace AbilisFast.Server.Access;

/// <summary>
/// The IPBAN service as the accept path sees it: a banned address is dropped at accept and counted
/// BANNED-IP. The admin console's IPBAN (failed logins, FIND-TIME, BAN-TIME) implements this;
/// SMTP sessions report failed AUTH attempts to it.
/// </summary>
internal interface IBanList
{
    bool IsBanned(IPAddress address);

    /// <summary>Counts one failure of <paramref name="address"/>; <paramref name="what"/> says what failed.</summary>
    void RecordFailure(IPAddress address, string what);
}

/// <summary>No bans: the list used until IPBAN is configured.</summary>
internal sealed class EmptyBanList : IBanList
{
    public static readonly EmptyBanList Instance = new();

    public bool IsBanned(IPAddress address) => false;

    public void RecordFailure(IPAddress address, string what)
    {
    }
}
