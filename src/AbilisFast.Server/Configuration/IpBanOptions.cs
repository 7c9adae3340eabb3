namespace AbilisFast.Server.Configuration;

/// <summary>What IPBAN does when an address reaches MAX-FAIL: ban it, send an alert mail, or both.</summary>
[Flags]
internal enum IpBanAction
{
    Ban = 1,
    Mail = 2,
    Both = Ban | Mail,
}

/// <summary>
/// The IPBAN parameters. Times are minutes as on the appliance; <see cref="WhiteListText"/> is the
/// value as typed (list names kept for display), <see cref="WhiteList"/> its expansion.
/// </summary>
internal sealed record IpBanOptions
{
    /// <summary>The ALERT-TO default, <c>postmaster</c> (delivered into the local postmaster mailbox).</summary>
    /// <remarks>Declared before <see cref="Default"/>: static initialisers run in text order.</remarks>
    public static IReadOnlyList<string> DefaultAlertTo { get; } = ["postmaster"];

    public static IpBanOptions Default { get; } = new();

    public int MaxFail { get; init; } = 10;

    public int FindTimeMinutes { get; init; } = 1440;

    public int BanTimeMinutes { get; init; } = 10080;

    public IpAccessList WhiteList { get; init; } = NamedIpLists.BuiltInPrivate;

    public string WhiteListText { get; init; } = NamedIpLists.PrivateIpAdd;

    public IpBanAction Action { get; init; } = IpBanAction.Ban;

    /// <summary>ALERT-TO (ours): the recipients of the alert mail; by default the local postmaster.</summary>
    public IReadOnlyList<string> AlertTo { get; init; } = DefaultAlertTo;

    public TimeSpan FindTime => TimeSpan.FromMinutes(FindTimeMinutes);

    public TimeSpan BanTime => TimeSpan.FromMinutes(BanTimeMinutes);
}
