using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AbilisFast.Server.Transport;

/// <summary>
/// The server certificate for STARTTLS and the implicit TLS port, loaded once at start: TLS-CERT
/// and TLS-KEY (PEM) when set, otherwise a self-signed ECDSA P-256 certificate for HELOHOST kept in
/// WDIR (<see cref="SelfSignedCertFile"/>, key in <see cref="SelfSignedKeyFile"/> with mode 0600)
/// and reused on later starts while it is valid and names HELOHOST.
/// </summary>
internal sealed class ServerTls
{
    public const string SelfSignedCertFile = "tls-selfsigned.crt";
    public const string SelfSignedKeyFile = "tls-selfsigned.key";

    /// <summary>A TLS handshake gets at most this long, and never longer than DT.</summary>
    public static readonly TimeSpan MaxHandshakeTime = TimeSpan.FromSeconds(30);

    private ServerTls(X509Certificate2 certificate, X509Certificate2Collection chain, string origin)
        : this(new Lazy<X509Certificate2>(certificate), chain, origin, certificate.GetCertHashString(HashAlgorithmName.SHA256))
    {
    }

    private ServerTls(Lazy<X509Certificate2> certificate, X509Certificate2Collection chain, string origin, string fingerprint)
    {
        _certificate = certificate;
        Origin = origin;
        Fingerprint = fingerprint;
        // Building the certificate context reads the whole system trust store (about 60 ms and a few
        // MB here): done at the first handshake, not at start, so the port opens at once.
        _options = new Lazy<SslServerAuthenticationOptions>(() => new SslServerAuthenticationOptions
        {
            // offline: never fetch intermediates over the network (AIA) while building the chain.
            ServerCertificateContext = SslStreamCertificateContext.Create(_certificate.Value, chain, offline: true),
            ClientCertificateRequired = false,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            AllowRenegotiation = false,

            // TLS 1.2 and 1.3 only, whatever the system's OpenSSL configuration says (RFC 8996).
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        });
    }

    private readonly Lazy<X509Certificate2> _certificate;
    private readonly Lazy<SslServerAuthenticationOptions> _options;

    /// <summary>
    /// The certificate. The self-signed one kept in WDIR is loaded at its first use (the first TLS
    /// handshake), which is when the process loads OpenSSL: a server that has not yet spoken TLS
    /// does not carry the library (about 4 MB of RSS, and a few ms of start-up).
    /// </summary>
    public X509Certificate2 Certificate => _certificate.Value;

    /// <summary>The SHA-256 fingerprint in upper-case hexadecimal (as GetCertHashString prints it), known without loading the certificate.</summary>
    public string Fingerprint { get; }

    /// <summary>Where the certificate came from, for the start-up line ("TLS-CERT /path", "self-signed ... (new)").</summary>
    public string Origin { get; }

    /// <summary>One options object for every handshake (the certificate context is built once, at the first use).</summary>
    public SslServerAuthenticationOptions Options => _options.Value;

    /// <summary>The handshake options, built on the thread pool the first time (never on a socket thread).</summary>
    public ValueTask<SslServerAuthenticationOptions> GetOptionsAsync() =>
        _options.IsValueCreated ? new ValueTask<SslServerAuthenticationOptions>(_options.Value) : new ValueTask<SslServerAuthenticationOptions>(Task.Run(() => _options.Value));

    /// <summary>
    /// Loads TLS-CERT/TLS-KEY or the self-signed certificate in WDIR (creating it when absent,
    /// expired or made for another HELOHOST). Throws <see cref="ConfigurationException"/> with a
    /// one-line reason when the configured files cannot be used.
    /// </summary>
    public static ServerTls Load(SmtpSettings settings, TimeProvider time)
    {
        if (settings.TlsCertPath is null)
        {
            if (settings.TlsKeyPath is not null)
            {
                throw new ConfigurationException($"{ParameterNames.TlsKey} is set but {ParameterNames.TlsCert} is empty: set both, or neither for a self-signed certificate");
            }

            return LoadSelfSigned(settings.WorkDir, settings.HeloHost, time);
        }

        try
        {
            var all = new X509Certificate2Collection();
            all.ImportFromPemFile(settings.TlsCertPath);
            X509Certificate2 leaf = X509Certificate2.CreateFromPemFile(settings.TlsCertPath, settings.TlsKeyPath);
            if (!leaf.HasPrivateKey)
            {
                throw new ConfigurationException($"{ParameterNames.TlsCert} {settings.TlsCertPath}: no private key found (set {ParameterNames.TlsKey})");
            }

            var chain = new X509Certificate2Collection();
            foreach (X509Certificate2 c in all)
            {
                if (c.Thumbprint != leaf.Thumbprint)
                {
                    chain.Add(c);
                }
            }

            return new ServerTls(leaf, chain, $"{ParameterNames.TlsCert} {settings.TlsCertPath}");
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            string key = settings.TlsKeyPath is null ? string.Empty : $" / {ParameterNames.TlsKey} {settings.TlsKeyPath}";
            throw new ConfigurationException($"{ParameterNames.TlsCert} {settings.TlsCertPath}{key} cannot be used: {e.Message}");
        }
    }

    private static ServerTls LoadSelfSigned(string workDir, string heloHost, TimeProvider time)
    {
        string certPath = Path.Combine(workDir, SelfSignedCertFile);
        string keyPath = Path.Combine(workDir, SelfSignedKeyFile);
        DateTimeOffset now = time.GetUtcNow();
        if (File.Exists(certPath) && File.Exists(keyPath))
        {
            // Checked without OpenSSL (managed PEM and ASN.1 readers, SHA-256 of the DER); the files
            // themselves are loaded at the first handshake. This is the path of every start but the first.
            if (CertificateDigest.TryRead(certPath, out byte[] der, out DateTime notAfter, out string? commonName)
                && CertificateDigest.LooksLikePrivateKey(keyPath)
                && notAfter > now.UtcDateTime.AddDays(1)
                && string.Equals(commonName, heloHost, StringComparison.OrdinalIgnoreCase))
            {
                var lazy = new Lazy<X509Certificate2>(() => LoadOrRemake(certPath, keyPath, heloHost, time));
                return new ServerTls(lazy, [], $"self-signed certificate {certPath} for {heloHost}", CertificateDigest.Sha256Hex(der));
            }

            try
            {
                X509Certificate2 existing = X509Certificate2.CreateFromPemFile(certPath, keyPath);
                if (existing.NotAfter > now.UtcDateTime.AddDays(1)
                    && string.Equals(existing.GetNameInfo(X509NameType.DnsName, forIssuer: false), heloHost, StringComparison.OrdinalIgnoreCase))
                {
                    return new ServerTls(existing, [], $"self-signed certificate {certPath} for {heloHost}");
                }
            }
            catch (CryptographicException)
            {
                // Damaged files: made again below.
            }
        }

        return new ServerTls(CreateSelfSigned(certPath, keyPath, heloHost, now), [], $"self-signed certificate {certPath} for {heloHost} (new)");
    }

    /// <summary>
    /// The first handshake's load of the self-signed files checked at start; files that OpenSSL cannot
    /// read after all (a key that does not belong to the certificate) are made anew, as a start would
    /// (the fingerprint printed at start then no longer applies: the next start prints the new one).
    /// </summary>
    private static X509Certificate2 LoadOrRemake(string certPath, string keyPath, string heloHost, TimeProvider time)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(certPath, keyPath);
        }
        catch (CryptographicException)
        {
            return CreateSelfSigned(certPath, keyPath, heloHost, time.GetUtcNow());
        }
    }

    private static X509Certificate2 CreateSelfSigned(string certPath, string keyPath, string heloHost, DateTimeOffset now)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={heloHost}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(heloHost);
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 created = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));

        // The key first, created 0600 (never readable by others, not even for a moment), then the certificate.
        WriteAtomically(keyPath, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        WriteAtomically(certPath, created.ExportCertificatePem(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return X509Certificate2.CreateFromPemFile(certPath, keyPath);
    }

    private static void WriteAtomically(string path, string pem, UnixFileMode mode)
    {
        string temp = path + ".tmp";
        File.Delete(temp);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        using (var file = new FileStream(temp, options))
        using (var writer = new StreamWriter(file))
        {
            writer.Write(pem);
            writer.Write('\n');
            writer.Flush();
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }
}
