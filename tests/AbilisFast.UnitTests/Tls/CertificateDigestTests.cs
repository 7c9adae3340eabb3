using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AbilisFast.Server.Tests.Tls;

/// <summary>The start-up's view of the self-signed certificate, read without OpenSSL, against what OpenSSL says.</summary>
public sealed class CertificateDigestTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(55)]
    [InlineData(56)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1000)]
    [InlineData(4097)]
    public void Sha256MatchesTheLibrary(int length)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        Assert.Equal(SHA256.HashData(data), CertificateDigest.Sha256(data));
    }

    [Fact]
    public void TheSelfSignedCertificateIsReadAsOpenSslReadsIt()
    {
        using var context = new TestServerContext(tls: true);
        string certPath = Path.Combine(context.WorkDir, ServerTls.SelfSignedCertFile);
        Assert.True(CertificateDigest.TryRead(certPath, out byte[] der, out DateTime notAfter, out string? commonName));
        using X509Certificate2 loaded = X509Certificate2.CreateFromPem(File.ReadAllText(certPath));
        Assert.Equal(loaded.RawData, der);
        Assert.Equal(loaded.NotAfter.ToUniversalTime(), notAfter);
        Assert.Equal("mx.test", commonName);
        Assert.True(CertificateDigest.LooksLikePrivateKey(Path.Combine(context.WorkDir, ServerTls.SelfSignedKeyFile)));
        Assert.False(CertificateDigest.LooksLikePrivateKey(certPath));

        // A restart takes the fingerprint from the file without loading the certificate; it is the one OpenSSL computes.
        ServerTls again = ServerTls.Load(context.Settings, TimeProvider.System);
        Assert.Equal(loaded.GetCertHashString(HashAlgorithmName.SHA256), again.Fingerprint);
        Assert.Equal(loaded.Thumbprint, again.Certificate.Thumbprint);
    }

    [Fact]
    public void ADamagedCertificateIsMadeAgainAtStart()
    {
        using var context = new TestServerContext(tls: true);
        string certPath = Path.Combine(context.WorkDir, ServerTls.SelfSignedCertFile);
        File.WriteAllText(certPath, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        Assert.False(CertificateDigest.TryRead(certPath, out _, out _, out _));
        ServerTls remade = ServerTls.Load(context.Settings, TimeProvider.System);
        Assert.EndsWith("(new)", remade.Origin);
        Assert.Equal(remade.Certificate.GetCertHashString(HashAlgorithmName.SHA256), remade.Fingerprint);
    }
}
