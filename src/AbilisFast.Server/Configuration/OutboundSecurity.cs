namespace AbilisFast.Server.Configuration;

/// <summary>
/// TLS on an outgoing connection: none (opportunistic STARTTLS where allowed), STARTTLS required, or
/// implicit TLS. SERVER-SECURITY sets it toward the relay server; MX hosts get None.
/// </summary>
internal enum OutboundSecurity
{
    None,
    StartTls,
    Tls,
}
