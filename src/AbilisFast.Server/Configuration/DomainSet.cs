using System.Text;

namespace AbilisFast.Server.Configuration;

/// <summary>
/// A set of ASCII domain names matched whole and case-insensitively against UTF-8 bytes, without
/// allocating. One trailing dot on either side is ignored; a subdomain or a name that merely ends
/// with a listed domain does not match.
/// </summary>
internal sealed class DomainSet
{
    private readonly byte[][] _utf8;

    public DomainSet(IEnumerable<string> names)
    {
        var list = new List<string>();
        foreach (string name in names)
        {
            string trimmed = name.EndsWith('.') ? name[..^1] : name;
            if (trimmed.Length > 0 && !list.Contains(trimmed, StringComparer.OrdinalIgnoreCase))
            {
                list.Add(trimmed);
            }
        }

        Names = list;
        _utf8 = list.Select(Encoding.UTF8.GetBytes).ToArray();
    }

    public static DomainSet Empty { get; } = new([]);

    public IReadOnlyList<string> Names { get; }

    public bool Contains(ReadOnlySpan<byte> utf8Domain)
    {
        if (!utf8Domain.IsEmpty && utf8Domain[^1] == (byte)'.')
        {
            utf8Domain = utf8Domain[..^1];
        }

        foreach (byte[] candidate in _utf8)
        {
            if (candidate.Length == utf8Domain.Length && Ascii.EqualsIgnoreCase(candidate, utf8Domain))
            {
                return true;
            }
        }

        return false;
    }
}
