namespace AbilisFast.Server.Configuration;

/// <summary>SERVER-TLS-VERIFY: how the relay server's certificate is checked.</summary>
internal enum TlsVerification
{
    /// <summary>YES: the chain to a trusted root (the system's or SERVER-TLS-CA) and the host name.</summary>
    Verify,

    /// <summary>NO: encrypt only, the certificate is not looked at.</summary>
    None,

    /// <summary>PIN: the SHA-256 of the certificate's SubjectPublicKeyInfo is one of SERVER-TLS-PIN.</summary>
    Pin,
}
