using System.Buffers;
using System.Security.Cryptography;
using AbilisFast.Server.Signing;

namespace AbilisFast.Server.Tests.Signing;

public sealed class DkimUnitTests
{
    private static string Relaxed(string field)
    {
        var output = new ArrayBufferWriter<byte>();
        DkimCanonicalization.RelaxedHeader(Encoding.ASCII.GetBytes(field), output);
        return Encoding.ASCII.GetString(output.WrittenSpan);
    }

    private static string BodyHash(params string[] chunks)
    {
        using var hasher = new DkimBodyHasher();
        foreach (string chunk in chunks)
        {
            hasher.Append(Encoding.ASCII.GetBytes(chunk));
        }

        return Convert.ToBase64String(hasher.Finish());
    }

    private static string Sha256(string text) => Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void RelaxedCanonicalisationMatchesTheExampleOfRfc6376()
    {
        // RFC 6376 3.4.5.
        Assert.Equal("a:X\r\n", Relaxed("A: X\r\n"));
        Assert.Equal("b:Y Z\r\n", Relaxed("B : Y\t\r\n\tZ  \r\n"));
        Assert.Equal(Sha256(" C\r\nD E\r\n"), BodyHash(" C \r\nD \t E\r\n\r\n\r\n"));
    }

    [Fact]
    public void TheBodyHashIsTheSameHoweverTheTextIsCutIntoChunks()
    {
        const string body = "  lead\t and  trail \t\r\n\r\n mid\r\n.dot\r\n\t\r\nend  \r\n \r\n\r\n";
        string whole = BodyHash(body);
        Assert.Equal(Sha256(" lead and trail\r\n\r\n mid\r\n.dot\r\n\r\nend\r\n"), whole);
        for (int cut = 1; cut < body.Length; cut++)
        {
            Assert.Equal(whole, BodyHash(body[..cut], body[cut..]));
        }

        Assert.Equal(whole, BodyHash([.. body.Select(c => c.ToString())]));
    }

    [Fact]
    public void EmptyAndUnterminatedBodiesHashAsTheyArriveOnTheWire()
    {
        Assert.Equal(Sha256(string.Empty), BodyHash());
        Assert.Equal(Sha256(string.Empty), BodyHash("\r\n\r\n \t\r\n"));
        Assert.Equal(Sha256("abc\r\n"), BodyHash("abc"));
        Assert.Equal(Sha256("abc\r\n"), BodyHash("abc  "));
    }

    [Fact]
    public void Ed25519FromOpenSslSignsTheTestVectorsOfRfc8032()
    {
        Assert.True(Ed25519.IsAvailable, Ed25519.UnavailableReason);

        // RFC 8032 7.1, TEST 1 (empty message) and TEST 3 (two octets).
        using (Ed25519Key key = Ed25519.Import(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")))
        {
            Assert.Equal("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", Convert.ToHexStringLower(Ed25519.PublicKey(key)));
            Assert.Equal(
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
                Convert.ToHexStringLower(Ed25519.Sign(key, [])));
        }

        using (Ed25519Key key = Ed25519.Import(Convert.FromHexString("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7")))
        {
            Assert.Equal("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", Convert.ToHexStringLower(Ed25519.PublicKey(key)));
            Assert.Equal(
                "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
                Convert.ToHexStringLower(Ed25519.Sign(key, [0xaf, 0x82])));
        }
    }

    [Fact]
    public async Task KeysMadeByOpenSslLoadAndGiveTheSamePublicKey()
    {
        using var dir = new Configuration.TempDir();
        foreach ((string name, string[] args) in (IEnumerable<(string, string[])>)
        [
            ("rsa-pkcs8.key", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "{0}"]),
            ("rsa-pkcs1.key", ["genrsa", "-traditional", "-out", "{0}", "2048"]),
            ("ed25519.key", ["genpkey", "-algorithm", "ed25519", "-out", "{0}"]),
        ])
        {
            string path = Path.Combine(dir.Path, name);
            var (exit, output) = await Tool.RunAsync("openssl", args.Select(a => a == "{0}" ? path : a));
            Assert.True(exit == 0, output);
            string publicPem = Path.Combine(dir.Path, name + ".pub");
            (exit, output) = await Tool.RunAsync("openssl", ["pkey", "-in", path, "-pubout", "-out", publicPem]);
            Assert.True(exit == 0, output);
            byte[] spki = Convert.FromBase64String(string.Concat(File.ReadAllLines(publicPem).Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));

            using DkimKey key = DkimKey.Load(path);
            if (name.StartsWith("rsa", StringComparison.Ordinal))
            {
                Assert.Equal(DkimKeyType.Rsa, key.Type);
                Assert.Equal(2048, key.Bits);
                Assert.Equal(spki, key.PublicKey);
                Assert.StartsWith("v=DKIM1; k=rsa; p=MIIB", key.DnsRecord, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(DkimKeyType.Ed25519, key.Type);
                Assert.Equal(spki[^32..], key.PublicKey); // RFC 8463 4.2: the bare 32-octet key
                Assert.Equal("v=DKIM1; k=ed25519; p=" + Convert.ToBase64String(spki[^32..]), key.DnsRecord);
            }
        }

        // And the other way round: openssl reads the PKCS#8 we write.
        (DkimKey made, string pem) = DkimKey.Generate(DkimKeyType.Ed25519);
        using (made)
        {
            string ours = dir.Write("ours.key", pem);
            string publicPem = Path.Combine(dir.Path, "ours.pub");
            var (exit, output) = await Tool.RunAsync("openssl", ["pkey", "-in", ours, "-pubout", "-out", publicPem]);
            Assert.True(exit == 0, output);
            byte[] spki = Convert.FromBase64String(string.Concat(File.ReadAllLines(publicPem).Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
            Assert.Equal(made.PublicKey, spki[^32..]);
        }
    }

    [Fact]
    public async Task UnusableKeysAreRefusedWithTheReason()
    {
        using var dir = new Configuration.TempDir();
        string small = Path.Combine(dir.Path, "small.key");
        var (exit, output) = await Tool.RunAsync("openssl", ["genrsa", "-out", small, "768"]);
        Assert.True(exit == 0, output);
        Assert.Contains("768 bits; DKIM needs at least 1024", Assert.Throws<DkimKeyException>(() => DkimKey.Load(small)).Message, StringComparison.Ordinal);

        string encrypted = Path.Combine(dir.Path, "encrypted.key");
        (exit, output) = await Tool.RunAsync("openssl", ["genpkey", "-algorithm", "ed25519", "-aes256", "-pass", "pass:x", "-out", encrypted]);
        Assert.True(exit == 0, output);
        Assert.Contains("encrypted", Assert.Throws<DkimKeyException>(() => DkimKey.Load(encrypted)).Message, StringComparison.Ordinal);

        Assert.Contains("no PEM block", Assert.Throws<DkimKeyException>(() => DkimKey.Load(dir.Write("junk.key", "junk"))).Message, StringComparison.Ordinal);
        Assert.Equal("no such file", Assert.Throws<DkimKeyException>(() => DkimKey.Load(Path.Combine(dir.Path, "none.key"))).Message);
        string certificate = dir.Write("cert.key", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        Assert.Contains("is not a private key", Assert.Throws<DkimKeyException>(() => DkimKey.Load(certificate)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Subject: x\r\nnot a field\r\n\r\nbody\r\n", "a header line is not a header field (no colon)")]
    [InlineData(" folded first\r\nFrom: a@sign.test\r\n\r\nbody\r\n", "the header starts with a continuation line")]
    [InlineData("From: a@sign.test\r\nFrom: b@sign.test\r\n\r\nbody\r\n", "more than one From field")]
    [InlineData("Subject: no from\r\n\r\nbody\r\n", "no From field")]
    [InlineData("From: a@elsewhere.test\r\n\r\nbody\r\n", "From domain elsewhere.test is not in DKIM-DOMAIN")]
    public async Task AMessageAVerifierCouldNotCheckOrNotOursGoesUnsignedWithTheReason(string message, string reason)
    {
        AbilisFast.Server.Configuration.SmtpSettings settings = AbilisFast.Server.Configuration.SmtpSettings.Default with { DkimDomains = ["sign.test"], DkimKeyPaths = ["/nonexistent/key"] };
        var signer = new DkimSigner(TimeProvider.System);
        DkimSignature result = await signer.SignAsync(settings, () => new MemoryStream(Encoding.ASCII.GetBytes(message)), CancellationToken.None);
        Assert.Null(result.Fields);
        Assert.Equal(reason, result.Unsigned);
    }

    [Fact]
    public async Task AnUnreadableKeyIsAnErrorNotAnUnsignedMessage()
    {
        AbilisFast.Server.Configuration.SmtpSettings settings = AbilisFast.Server.Configuration.SmtpSettings.Default with { DkimDomains = ["sign.test"], DkimSelectors = ["s1"], DkimKeyPaths = ["/nonexistent/s1.key"] };
        var signer = new DkimSigner(TimeProvider.System);
        DkimKeyException e = await Assert.ThrowsAsync<DkimKeyException>(() => signer.SignAsync(settings, () => new MemoryStream("From: a@sign.test\r\n\r\nx\r\n"u8.ToArray()), CancellationToken.None));
        Assert.Equal("DKIM-KEY /nonexistent/s1.key (selector s1): no such file", e.Message);
    }

    [Theory]
    [InlineData("From: a@Example.COM\r\n", "example.com")]
    [InlineData("From: \"Doe, John\" <john@sign.test>\r\n", "sign.test")]
    [InlineData("From: John (at <work>) <john@sign.test.>\r\n", "sign.test")]
    [InlineData("From:\r\n Name\r\n <x@folded.test>\r\n", "folded.test")]
    [InlineData("From: a@one.test, b@two.test\r\n", null)]
    [InlineData("From: group: a@one.test;\r\n", null)]
    [InlineData("From: nobody\r\n", null)]
    public void TheFromDomainIsTheDomainOfItsOneAddress(string field, string? domain)
    {
        Assert.Equal(domain, DkimSigner.FromDomain(Encoding.ASCII.GetBytes(field)));
    }
}
