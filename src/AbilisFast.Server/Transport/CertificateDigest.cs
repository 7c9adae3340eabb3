using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;

namespace AbilisFast.Server.Transport;

/// <summary>
/// What the start-up needs to know of a PEM certificate without loading the system's TLS library:
/// its SHA-256 fingerprint (the one <c>openssl x509 -fingerprint -sha256</c> prints), its notAfter
/// and its subject's common name, read from the DER with the managed ASN.1 reader. The .NET hash and
/// certificate classes would load OpenSSL (about 4 MB of RSS and a few ms of start-up), which the
/// server otherwise needs only at its first TLS handshake.
/// </summary>
internal static class CertificateDigest
{
    /// <summary>Reads the first CERTIFICATE block of a PEM file; false when there is none or it does not parse.</summary>
    public static bool TryRead(string pemPath, out byte[] der, out DateTime notAfterUtc, out string? commonName)
    {
        der = [];
        notAfterUtc = default;
        commonName = null;
        try
        {
            ReadOnlySpan<char> pem = File.ReadAllText(pemPath);
            while (PemEncoding.TryFind(pem, out PemFields fields))
            {
                if (pem[fields.Label].SequenceEqual("CERTIFICATE"))
                {
                    der = Convert.FromBase64String(pem[fields.Base64Data].ToString());
                    return TryParse(der, out notAfterUtc, out commonName);
                }

                pem = pem[fields.Location.End..];
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or AsnContentException or ArgumentException)
        {
        }

        return false;
    }

    /// <summary>True when the file holds a PEM PRIVATE KEY block whose content is valid base64 (not whether the key fits).</summary>
    public static bool LooksLikePrivateKey(string pemPath)
    {
        try
        {
            ReadOnlySpan<char> pem = File.ReadAllText(pemPath);
            return PemEncoding.TryFind(pem, out PemFields fields) && pem[fields.Label].EndsWith("PRIVATE KEY") && fields.DecodedDataLength > 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version, serial, signature, issuer, validity, subject, ... }, ... }</summary>
    private static bool TryParse(byte[] der, out DateTime notAfterUtc, out string? commonName)
    {
        notAfterUtc = default;
        commonName = null;
        var certificate = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        AsnReader tbs = certificate.ReadSequence();
        if (tbs.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
        {
            tbs.ReadEncodedValue(); // version
        }

        tbs.ReadEncodedValue(); // serialNumber
        tbs.ReadEncodedValue(); // signature
        tbs.ReadEncodedValue(); // issuer
        AsnReader validity = tbs.ReadSequence();
        ReadTime(validity);
        notAfterUtc = ReadTime(validity).UtcDateTime;
        AsnReader subject = tbs.ReadSequence();
        while (subject.HasData)
        {
            AsnReader set = subject.ReadSetOf();
            while (set.HasData)
            {
                AsnReader attribute = set.ReadSequence();
                string oid = attribute.ReadObjectIdentifier();
                if (oid == "2.5.4.3")
                {
                    commonName = attribute.ReadCharacterString(attribute.PeekTag().TagValue switch
                    {
                        (int)UniversalTagNumber.PrintableString => UniversalTagNumber.PrintableString,
                        (int)UniversalTagNumber.IA5String => UniversalTagNumber.IA5String,
                        (int)UniversalTagNumber.BMPString => UniversalTagNumber.BMPString,
                        _ => UniversalTagNumber.UTF8String,
                    });
                }
            }
        }

        return true;
    }

    private static DateTimeOffset ReadTime(AsnReader reader) =>
        reader.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) ? reader.ReadUtcTime() : reader.ReadGeneralizedTime();

    /// <summary>The SHA-256 of <paramref name="data"/> as upper-case hexadecimal, as X509Certificate2.GetCertHashString prints it.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexString(Sha256(data));

    private static readonly uint[] K =
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    /// <summary>SHA-256 (FIPS 180-4), for fingerprints only: a few kilobytes once at start.</summary>
    internal static byte[] Sha256(ReadOnlySpan<byte> data)
    {
        Span<uint> h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
        int padded = ((data.Length + 8) / 64 + 1) * 64;
        byte[] message = new byte[padded];
        data.CopyTo(message);
        message[data.Length] = 0x80;
        BinaryPrimitives.WriteUInt64BigEndian(message.AsSpan(padded - 8), (ulong)data.Length * 8);
        Span<uint> w = stackalloc uint[64];
        for (int block = 0; block < padded; block += 64)
        {
            for (int t = 0; t < 16; t++)
            {
                w[t] = BinaryPrimitives.ReadUInt32BigEndian(message.AsSpan(block + (t * 4)));
            }

            for (int t = 16; t < 64; t++)
            {
                uint s0 = BitOperations.RotateRight(w[t - 15], 7) ^ BitOperations.RotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3);
                uint s1 = BitOperations.RotateRight(w[t - 2], 17) ^ BitOperations.RotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10);
                w[t] = w[t - 16] + s0 + w[t - 7] + s1;
            }

            uint a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
            for (int t = 0; t < 64; t++)
            {
                uint sum1 = BitOperations.RotateRight(e, 6) ^ BitOperations.RotateRight(e, 11) ^ BitOperations.RotateRight(e, 25);
                uint choose = (e & f) ^ (~e & g);
                uint t1 = hh + sum1 + choose + K[t] + w[t];
                uint sum0 = BitOperations.RotateRight(a, 2) ^ BitOperations.RotateRight(a, 13) ^ BitOperations.RotateRight(a, 22);
                uint majority = (a & b) ^ (a & c) ^ (b & c);
                uint t2 = sum0 + majority;
                hh = g;
                g = f;
                f = e;
                e = d + t1;
                d = c;
                c = b;
                b = a;
                a = t1 + t2;
            }

            h[0] += a;
            h[1] += b;
            h[2] += c;
            h[3] += d;
            h[4] += e;
            h[5] += f;
            h[6] += g;
            h[7] += hh;
        }

        byte[] digest = new byte[32];
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(digest.AsSpan(i * 4), h[i]);
        }

        return digest;
    }
}
