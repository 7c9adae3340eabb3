using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace AbilisFast.Server.Delivery;

/// <summary>
/// The check of a server certificate on the OUT side (SERVER-TLS-VERIFY): the chain to a root the
/// system trusts or one of SERVER-TLS-CA, and the host name (an IP literal against the IP address
/// names); or only the SHA-256 of the SubjectPublicKeyInfo against SERVER-TLS-PIN. Revocation is not
/// checked (an appliance may have no way to reach CRLs or OCSP responders).
/// </summary>
internal static class TlsCertificateCheck
{
    /// <summary>Why the certificate is not accepted, or null when it is.</summary>
    public static string? Problem(TlsVerification mode, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors,
        string host, IReadOnlyList<byte[]> pins, X509Certificate2Collection? anchors)
    {
        if (mode == TlsVerification.None)
        {
            return null;
        }

        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return "the server sent no certificate";
        }

        X509Certificate2? owned = certificate as X509Certificate2 is null ? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()) : null;
        try
        {
            X509Certificate2 leaf = owned ?? (X509Certificate2)certificate;
            return mode == TlsVerification.Pin ? PinProblem(leaf, pins) : ChainAndNameProblem(leaf, chain, errors, host, anchors);
        }
        finally
        {
            owned?.Dispose();
        }
    }

    /// <summary>The base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as SERVER-TLS-PIN takes it.</summary>
    public static string Pin(X509Certificate2 certificate) =>
        Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    private static string? PinProblem(X509Certificate2 leaf, IReadOnlyList<byte[]> pins)
    {
        if (pins.Count == 0)
        {
            return "SERVER-TLS-VERIFY is PIN but SERVER-TLS-PIN is empty";
        }

        byte[] digest = SHA256.HashData(leaf.PublicKey.ExportSubjectPublicKeyInfo());
        foreach (byte[] pin in pins)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, pin))
            {
                return null;
            }
        }

        return $"the server's key (SHA-256 {Convert.ToBase64String(digest)}) is not in SERVER-TLS-PIN";
    }

    private static string? ChainAndNameProblem(X509Certificate2 leaf, X509Chain? chain, SslPolicyErrors errors, string host, X509Certificate2Collection? anchors)
    {
        var problems = new List<string>(2);
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            problems.Add($"the certificate is not for {host} (it names {Names(leaf)})");
        }

        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            string? problem = Describe(chain);
            if (anchors is { Count: > 0 })
            {
                problem = CustomChainProblem(leaf, chain, anchors);
            }

            if (problem is not null)
            {
                problems.Add($"no trusted chain for {leaf.Subject}: {problem}");
            }
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>Builds the chain again with the SERVER-TLS-CA anchors as the only roots; null when it holds.</summary>
    private static string? CustomChainProblem(X509Certificate2 leaf, X509Chain? received, X509Certificate2Collection anchors)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (received is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(received.ChainPolicy.ExtraStore);
            foreach (X509ChainElement element in received.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        bool built = chain.Build(leaf);
        string? problem = built ? null : Describe(chain) ?? "the chain does not end at a trusted root";
        for (int i = 0; i < chain.ChainElements.Count; i++)
        {
            chain.ChainElements[i].Certificate.Dispose();
        }

        return problem;
    }

    /// <summary>The chain's status flags in words, or null when it has none.</summary>
    private static string? Describe(X509Chain? chain)
    {
        if (chain is null || chain.ChainStatus.Length == 0)
        {
            return chain is null ? "no chain" : null;
        }

        var text = new StringBuilder();
        foreach (X509ChainStatus status in chain.ChainStatus)
        {
            string word = status.Status switch
            {
                X509ChainStatusFlags.UntrustedRoot => "the root is not trusted (self-signed or unknown CA)",
                X509ChainStatusFlags.PartialChain => "no chain to a trusted root",
                X509ChainStatusFlags.NotTimeValid => "expired or not yet valid",
                X509ChainStatusFlags.NotSignatureValid => "a signature does not verify",
                X509ChainStatusFlags.NotValidForUsage => "not valid for a TLS server",
                X509ChainStatusFlags.Revoked => "revoked",
                _ => status.Status.ToString(),
            };
            if (!text.ToString().Contains(word, StringComparison.Ordinal))
            {
                text.Append(text.Length > 0 ? ", " : string.Empty).Append(word);
            }
        }

        return text.ToString();
    }

    /// <summary>The DNS and IP address names of the certificate (or its subject when it has none), for messages.</summary>
    private static string Names(X509Certificate2 leaf)
    {
        var names = new List<string>();
        foreach (X509Extension extension in leaf.Extensions)
        {
            if (extension.Oid?.Value != "2.5.29.17")
            {
                continue;
            }

            var san = extension as X509SubjectAlternativeNameExtension ?? new X509SubjectAlternativeNameExtension(extension.RawData, extension.Critical);
            names.AddRange(san.EnumerateDnsNames());
            names.AddRange(san.EnumerateIPAddresses().Select(a => a.ToString()));
        }

        return names.Count > 0 ? string.Join(", ", names.Take(8)) + (names.Count > 8 ? ", ..." : string.Empty) : leaf.Subject;
    }
}
