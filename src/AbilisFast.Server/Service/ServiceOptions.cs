namespace AbilisFast.Server.Service;

/// <summary>
/// What the executable hands the host when it runs as a service: the systemd notifier (null
/// outside systemd) and the SIGHUP count (each release is one reload request).
/// </summary>
internal sealed class ServiceOptions
{
    public SystemdNotifier? Notifier { get; init; }

    /// <summary>Released once per SIGHUP; the host reloads the configuration for each.</summary>
    public SemaphoreSlim? Reloads { get; init; }
}
