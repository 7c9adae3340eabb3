namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// Certificates made for one test run: a private root CA and server certificates it signs, plus a
/// self-signed one, all for loopback (DNS name localhost, IP address 127.0.0.1) unless told.
/// </summary>
internal static class TestCertificates
{
    private static readonly Lazy<X509Certificate2> RootLazy = new(() =>
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=AbilisFast Test Root CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using X509Certificate2 made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pfx), null);
    });

    private static readonly Lazy<X509Certificate2> LoopbackLazy = new(() => Issue("localhost", ["localhost"], [IPAddress.Loopback], Root));

    private static readonly Lazy<X509Certificate2> SelfSignedLazy = new(() => Issue("localhost", ["localhost"], [IPAddress.Loopback], issuer: null));

    /// <summary>The test root CA (with its key).</summary>
    public static X509Certificate2 Root => RootLazy.Value;

    /// <summary>A server certificate for localhost and 127.0.0.1, signed by <see cref="Root"/>.</summary>
    public static X509Certificate2 Loopback => LoopbackLazy.Value;

    /// <summary>A self-signed server certificate for localhost and 127.0.0.1 (no CA vouches for it).</summary>
    public static X509Certificate2 SelfSigned => SelfSignedLazy.Value;

    /// <summary>Writes the root CA certificate as PEM into <paramref name="folder"/>; returns the file's path.</summary>
    public static string WriteRootPem(string folder)
    {
        string path = Path.Combine(folder, "test-root-ca.pem");
        File.WriteAllText(path, Root.ExportCertificatePem() + "\n");
        return path;
    }

    /// <summary>Writes <paramref name="certificate"/> and its key as PEM files (for openssl s_server); returns both paths.</summary>
    public static (string Certificate, string Key) WritePem(X509Certificate2 certificate, string folder)
    {
        string cert = Path.Combine(folder, "server-cert.pem");
        string key = Path.Combine(folder, "server-key.pem");
        File.WriteAllText(cert, certificate.ExportCertificatePem() + "\n");
        using ECDsa ecdsa = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(key, ecdsa.ExportPkcs8PrivateKeyPem() + "\n");
        return (cert, key);
    }

    /// <summary>The base64 SHA-256 of the certificate's SubjectPublicKeyInfo (what SERVER-TLS-PIN takes).</summary>
    public static string Pin(X509Certificate2 certificate) =>
        Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    /// <summary>A TLS server certificate with the given names, signed by <paramref name="issuer"/> (null: self-signed).</summary>
    public static X509Certificate2 Issue(string commonName, string[] dnsNames, IPAddress[] addresses, X509Certificate2? issuer)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (string name in dnsNames)
        {
            names.AddDnsName(name);
        }

        foreach (IPAddress address in addresses)
        {
            names.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        DateTimeOffset from = DateTimeOffset.UtcNow.AddDays(-1);
        DateTimeOffset to = DateTimeOffset.UtcNow.AddDays(7);
        if (issuer is null)
        {
            using X509Certificate2 self = request.CreateSelfSigned(from, to);
            return X509CertificateLoader.LoadPkcs12(self.Export(X509ContentType.Pfx), null);
        }

        byte[] serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        using X509Certificate2 signed = request.Create(issuer, from, to, serial);
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
    }
}
