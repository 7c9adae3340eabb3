namespace AbilisFast.Server.Configuration;

/// <summary>
/// What <see cref="LiveConfiguration"/> puts changed settings into: the running SMTP resource
/// (the shared context of sessions, delivery and console).
/// </summary>
internal interface ILiveSettingsTarget
{
    /// <summary>The settings in force.</summary>
    SmtpSettings Settings { get; }

    /// <summary>Puts <paramref name="settings"/> in force for the next command of every session.</summary>
    void ApplySettings(SmtpSettings settings);
}

/// <summary>What <see cref="LiveConfiguration"/> puts changed IPBAN options into: the running ban service.</summary>
internal interface ILiveIpBanTarget
{
    /// <summary>The IPBAN options in force.</summary>
    IpBanOptions Options { get; set; }
}
