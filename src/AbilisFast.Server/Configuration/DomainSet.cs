using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace AbilisFast.Server.Configuration;

/// <summary>
/// A set of domain names matched whole and case-insensitively against UTF-8 bytes, without
/// allocating. One trailing dot on either side is ignored; a subdomain or a name that merely ends
/// with a listed domain does not match. Internationalised names match in either form: a listed
/// <c>bücher.test</c> matches <c>xn--bcher-kva.test</c>, <c>BÜCHER.test</c> and a mix of the two
/// label by label (A-labels compare as ASCII, U-labels with Unicode simple case folding; the
/// invariant-globalization runtime does no NFC normalisation, so a U-label must arrive in NFC, which
/// IDNA2008 requires anyway).
/// </summary>
internal sealed class DomainSet
{
    private readonly byte[][] _ascii;
    private readonly string[][] _unicodeLabels;

    public DomainSet(IEnumerable<string> names)
    {
        var list = new List<string>();
        var ascii = new List<string>();
        foreach (string name in names)
        {
            string trimmed = name.EndsWith('.') ? name[..^1] : name;
            if (trimmed.Length == 0 || TryToAscii(trimmed) is not { } aLabel || ascii.Contains(aLabel, StringComparer.Ordinal))
            {
                continue;
            }

            list.Add(trimmed);
            ascii.Add(aLabel);
        }

        Names = list;
        AsciiNames = ascii;
        _ascii = [.. ascii.Select(Encoding.ASCII.GetBytes)];
        _unicodeLabels = [.. ascii.Select(a => ToUnicode(a).Split('.'))];
    }

    public static DomainSet Empty { get; } = new([]);

    /// <summary>The domains as configured (without a trailing dot).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The same domains in lower-case ASCII (A-labels for internationalised names), index for index.</summary>
    public IReadOnlyList<string> AsciiNames { get; }

    public bool Contains(ReadOnlySpan<byte> utf8Domain) => IndexOf(utf8Domain) >= 0;

    /// <summary>The index of the listed domain that <paramref name="utf8Domain"/> names, or -1.</summary>
    public int IndexOf(ReadOnlySpan<byte> utf8Domain)
    {
        if (!utf8Domain.IsEmpty && utf8Domain[^1] == (byte)'.')
        {
            utf8Domain = utf8Domain[..^1];
        }

        if (System.Text.Ascii.IsValid(utf8Domain))
        {
            for (int i = 0; i < _ascii.Length; i++)
            {
                if (_ascii[i].Length == utf8Domain.Length && System.Text.Ascii.EqualsIgnoreCase(_ascii[i], utf8Domain))
                {
                    return i;
                }
            }

            return -1;
        }

        for (int i = 0; i < _ascii.Length; i++)
        {
            if (MatchesByLabel(utf8Domain, _ascii[i], _unicodeLabels[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// The lower-case ASCII form of a domain name: U-labels lower-cased and turned into A-labels
    /// (IDNA punycode); null when the name cannot be converted.
    /// </summary>
    public static string? TryToAscii(string domain)
    {
        if (System.Text.Ascii.IsValid(domain))
        {
            return domain.ToLowerInvariant();
        }

        try
        {
            return new IdnMapping().GetAscii(domain.ToLowerInvariant()).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string ToUnicode(string ascii)
    {
        try
        {
            return new IdnMapping().GetUnicode(ascii).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            // An "xn--" label that is no valid punycode: it can only match in its ASCII form.
            return ascii;
        }
    }

    private static bool MatchesByLabel(ReadOnlySpan<byte> domain, ReadOnlySpan<byte> ascii, string[] unicodeLabels)
    {
        Span<char> chars = stackalloc char[256];
        int label = 0;
        foreach (Range range in domain.Split((byte)'.'))
        {
            if (label >= unicodeLabels.Length)
            {
                return false;
            }

            ReadOnlySpan<byte> incoming = domain[range];
            int dot = ascii.IndexOf((byte)'.');
            ReadOnlySpan<byte> asciiLabel = dot < 0 ? ascii : ascii[..dot];
            ascii = dot < 0 ? default : ascii[(dot + 1)..];
            if (System.Text.Ascii.IsValid(incoming))
            {
                if (!System.Text.Ascii.EqualsIgnoreCase(incoming, asciiLabel))
                {
                    return false;
                }
            }
            else
            {
                if (incoming.Length > chars.Length
                    || Utf8.ToUtf16(incoming, chars, out _, out int written) != System.Buffers.OperationStatus.Done
                    || !chars[..written].Equals(unicodeLabels[label], StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
            }

            label++;
        }

        return label == unicodeLabels.Length;
    }
}
