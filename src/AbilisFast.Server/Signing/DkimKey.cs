using System.Formats.Asn1;
using System.Security.Cryptography;

namespace AbilisFast.Server.Signing;

internal enum DkimKeyType
{
    Rsa,
    Ed25519,
}

/// <summary>A DKIM key file could not be used; the message says why, in one line.</summary>
internal sealed class DkimKeyException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A DKIM private key from a PEM file: RSA (PKCS#1 <c>RSA PRIVATE KEY</c> or PKCS#8 <c>PRIVATE
/// KEY</c>, as openssl and opendkim-genkey write them), used as rsa-sha256 (RFC 6376), or Ed25519
/// (PKCS#8 <c>PRIVATE KEY</c>, as <c>openssl genpkey -algorithm ed25519</c> writes it), used as
/// ed25519-sha256 (RFC 8463). RSA keys under 1024 bits are refused (RFC 8301).
/// </summary>
internal sealed class DkimKey : IDisposable
{
    public const int MinRsaBits = 1024;
    public const int DefaultRsaBits = 2048;

    private const string Ed25519Oid = "1.3.101.112";
    private const string RsaOid = "1.2.840.113549.1.1.1";

    private readonly RSA? _rsa;
    private readonly Ed25519Key? _ed25519;

    private DkimKey(RSA rsa)
    {
        _rsa = rsa;
        Type = DkimKeyType.Rsa;
        Bits = rsa.KeySize;
        PublicKey = rsa.ExportSubjectPublicKeyInfo();
    }

    private DkimKey(Ed25519Key key)
    {
        _ed25519 = key;
        Type = DkimKeyType.Ed25519;
        Bits = 256;
        PublicKey = Ed25519.PublicKey(key);
    }

    public DkimKeyType Type { get; }

    public int Bits { get; }

    /// <summary>The a= tag: rsa-sha256 or ed25519-sha256.</summary>
    public string Algorithm => Type == DkimKeyType.Rsa ? "rsa-sha256" : "ed25519-sha256";

    /// <summary>The k= tag of the DNS record: rsa or ed25519.</summary>
    public string KeyTypeTag => Type == DkimKeyType.Rsa ? "rsa" : "ed25519";

    /// <summary>The p= value's octets: the SubjectPublicKeyInfo (RSA) or the 32-octet public key (Ed25519, RFC 8463 4.2).</summary>
    public byte[] PublicKey { get; }

    /// <summary>The DNS TXT record's text: <c>v=DKIM1; k=…; p=…</c>.</summary>
    public string DnsRecord => $"v=DKIM1; k={KeyTypeTag}; p={Convert.ToBase64String(PublicKey)}";

    /// <summary>
    /// Signs the SHA-256 of the header data: RSASSA-PKCS1-v1_5 over it for rsa-sha256, PureEdDSA of
    /// the 32-octet digest itself for ed25519-sha256 (RFC 8463 3).
    /// </summary>
    public byte[] SignDigest(ReadOnlySpan<byte> sha256) => _rsa is not null
        ? _rsa.SignHash(sha256, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
        : Ed25519.Sign(_ed25519!, sha256);

    /// <summary>Reads a key file; throws <see cref="DkimKeyException"/> with the reason in words.</summary>
    public static DkimKey Load(string path)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DkimKeyException("no such file", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DkimKeyException("permission denied", e);
        }
        catch (IOException e)
        {
            throw new DkimKeyException($"cannot be read: {e.Message}", e);
        }

        return FromPem(pem);
    }

    /// <summary>The key in PEM text; throws <see cref="DkimKeyException"/>.</summary>
    public static DkimKey FromPem(string pem)
    {
        if (!PemEncoding.TryFind(pem, out PemFields fields))
        {
            throw new DkimKeyException("no PEM block (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----) found");
        }

        string label = pem[fields.Label];
        byte[] der;
        try
        {
            der = Convert.FromBase64String(pem[fields.Base64Data]);
        }
        catch (FormatException e)
        {
            throw new DkimKeyException("the PEM block is not valid base64", e);
        }

        try
        {
            return label switch
            {
                "RSA PRIVATE KEY" => Rsa(rsa => rsa.ImportRSAPrivateKey(der, out _)),
                "PRIVATE KEY" => FromPkcs8(der),
                "ENCRYPTED PRIVATE KEY" => throw new DkimKeyException("the key is encrypted; store it without a passphrase (mode 0600)"),
                _ => throw new DkimKeyException($"a PEM block '{label}' is not a private key"),
            };
        }
        catch (Exception e) when (e is CryptographicException or AsnContentException)
        {
            throw new DkimKeyException($"not a valid private key ({label}): {e.Message}", e);
        }
    }

    /// <summary>A new key: RSA of <paramref name="rsaBits"/> bits or Ed25519; returns it and its PKCS#8 PEM text.</summary>
    public static (DkimKey Key, string Pem) Generate(DkimKeyType type, int rsaBits = DefaultRsaBits)
    {
        if (type == DkimKeyType.Rsa)
        {
            var rsa = RSA.Create(rsaBits);
            string pem = PemEncoding.WriteString("PRIVATE KEY", rsa.ExportPkcs8PrivateKey());
            return (new DkimKey(rsa), pem + "\n");
        }

        EnsureEd25519();
        byte[] seed = RandomNumberGenerator.GetBytes(Ed25519.SeedLength);
        try
        {
            string pem = PemEncoding.WriteString("PRIVATE KEY", Ed25519Pkcs8(seed));
            return (new DkimKey(Ed25519.Import(seed)), pem + "\n");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>PKCS#8 (RFC 5958) of an Ed25519 seed, as RFC 8410 7 shows it: the seed as an OCTET STRING inside the privateKey OCTET STRING.</summary>
    internal static byte[] Ed25519Pkcs8(ReadOnlySpan<byte> seed)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(0);
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Ed25519Oid);
            }

            var inner = new AsnWriter(AsnEncodingRules.DER);
            inner.WriteOctetString(seed);
            writer.WriteOctetString(inner.Encode());
        }

        return writer.Encode();
    }

    private static DkimKey FromPkcs8(byte[] der)
    {
        var reader = new AsnReader(der, AsnEncodingRules.BER);
        AsnReader info = reader.ReadSequence();
        info.ReadInteger();
        AsnReader algorithm = info.ReadSequence();
        string oid = algorithm.ReadObjectIdentifier();
        if (oid == RsaOid)
        {
            return Rsa(rsa => rsa.ImportPkcs8PrivateKey(der, out _));
        }

        if (oid != Ed25519Oid)
        {
            throw new DkimKeyException($"the key's algorithm {oid} is neither RSA nor Ed25519");
        }

        EnsureEd25519();
        byte[] seed = new AsnReader(info.ReadOctetString(), AsnEncodingRules.BER).ReadOctetString();
        try
        {
            if (seed.Length != Ed25519.SeedLength)
            {
                throw new DkimKeyException($"an Ed25519 private key is 32 octets, this one {seed.Length}");
            }

            return new DkimKey(Ed25519.Import(seed));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    private static DkimKey Rsa(Action<RSA> import)
    {
        var rsa = RSA.Create();
        try
        {
            import(rsa);
            if (rsa.KeySize < MinRsaBits)
            {
                throw new DkimKeyException($"the RSA key has {rsa.KeySize} bits; DKIM needs at least {MinRsaBits} (RFC 8301), {DefaultRsaBits} is usual");
            }

            return new DkimKey(rsa);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    private static void EnsureEd25519()
    {
        if (!Ed25519.IsAvailable)
        {
            throw new DkimKeyException($"Ed25519 is not available here: {Ed25519.UnavailableReason}; use an RSA key");
        }
    }

    public void Dispose()
    {
        _rsa?.Dispose();
        _ed25519?.Dispose();
    }
}
