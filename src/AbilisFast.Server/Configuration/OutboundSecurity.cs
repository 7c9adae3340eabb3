namespace AbilisFast.Server.Configuration;

/// <summary>SERVER-SECURITY: TLS toward the relay server.</summary>
internal enum ServerSecurity
{
    None,
    StartTls,
    Tls,
}
