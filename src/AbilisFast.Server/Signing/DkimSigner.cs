using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AbilisFast.Protocol.Data;

namespace AbilisFast.Server.Signing;

/// <summary>The DKIM-Signature fields to send before a message, or why it goes unsigned.</summary>
internal readonly record struct DkimSignature(byte[]? Fields, string? Unsigned);

/// <summary>
/// DKIM signing (RFC 6376; ed25519-sha256 of RFC 8463) of mail leaving by MX or SERVER: a message
/// whose From domain is one of DKIM-DOMAIN gets one DKIM-Signature per DKIM-SELECTOR, relaxed/relaxed,
/// d= that domain, over the usual header fields present (From signed once more than it occurs, so
/// that no From can be added). The text is read once from the spool before the send, through the
/// same <see cref="OutgoingText"/> transform the send uses, so what is hashed is what the next hop
/// receives; only the signed header fields are held in memory, the body is hashed as it streams.
/// Keys are read from their files on first use and again when a file changes.
/// </summary>
internal sealed class DkimSigner
{
    /// <summary>The fields signed when present, in h= order (RFC 6376 5.4.1's recommendations).</summary>
    public static readonly string[] SignedFields =
    [
        "from", "reply-to", "subject", "date", "to", "cc", "message-id", "in-reply-to", "references",
        "mime-version", "content-type", "content-transfer-encoding",
    ];

    private const int ReadChunk = 32 * 1024;

    private readonly TimeProvider _time;
    private volatile KeySet? _keys;

    public DkimSigner(TimeProvider time) => _time = time;

    /// <summary>
    /// Loads every configured key; throws <see cref="ConfigurationException"/> naming the parameter's
    /// source (FILE:LINE) and the file when one cannot be used. Nothing is loaded when DKIM-DOMAIN is empty.
    /// </summary>
    public static void CheckKeys(SmtpSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.DkimDomains.Count == 0)
        {
            return;
        }

        for (int i = 0; i < settings.DkimKeyPaths.Count; i++)
        {
            using DkimKey key = LoadKey(settings, i);
        }
    }

    /// <summary>
    /// The DKIM-Signature fields for the message, or null fields (and the reason) when it is not
    /// signed: DKIM-DOMAIN empty, no single From of a signing domain, or a header a verifier could
    /// not parse. Throws <see cref="DkimKeyException"/> when a key file cannot be used (the caller defers).
    /// </summary>
    public async Task<DkimSignature> SignAsync(SmtpSettings settings, Func<Stream> openText, CancellationToken cancellationToken)
    {
        if (settings.DkimDomains.Count == 0)
        {
            return new DkimSignature(null, "DKIM-DOMAIN is empty");
        }

        using var scanner = new DkimMessageScanner(SignedFields);
        byte[] input = ArrayPool<byte>.Shared.Rent(ReadChunk);
        using var text = new OutgoingText(ReadChunk);
        string? domain = null;
        try
        {
            Stream stream = openText();
            await using (stream.ConfigureAwait(false))
            {
                int read;
                while ((read = await stream.ReadAsync(input.AsMemory(0, ReadChunk), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    bool inHeader = !scanner.HeaderDone;
                    scanner.Append(text.Transform(input.AsSpan(0, read)));
                    if (scanner.Problem is { } problem)
                    {
                        return new DkimSignature(null, problem);
                    }

                    if (inHeader && scanner.HeaderDone && SigningDomain(settings, scanner.Fields, out domain) is { } notOurs)
                    {
                        return new DkimSignature(null, notOurs); // decided by the header: the body need not be read
                    }
                }

                scanner.Append(text.Flush());
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
        }

        byte[] bodyHash = scanner.FinishBody();
        if (scanner.Problem is { } late)
        {
            return new DkimSignature(null, late);
        }

        if (domain is null && SigningDomain(settings, scanner.Fields, out domain) is { } reason)
        {
            return new DkimSignature(null, reason);
        }

        return new DkimSignature(SignatureFields(settings, domain!, bodyHash, scanner.Fields), null);
    }

    /// <summary>One DKIM-Signature field per key (each selector's), all with the same time and body hash.</summary>
    private byte[] SignatureFields(SmtpSettings settings, string domain, byte[] bodyHash, IReadOnlyList<(string Name, byte[] Raw)> headerFields)
    {
        KeySet keys = Keys(settings);
        long now = _time.GetUtcNow().ToUnixTimeSeconds();
        var fields = new ArrayBufferWriter<byte>(1024 * keys.Keys.Length);
        for (int i = 0; i < keys.Keys.Length; i++)
        {
            fields.Write(Sign(keys.Keys[i], settings.DkimSelectors[i], domain, now, bodyHash, headerFields));
        }

        return fields.WrittenSpan.ToArray();
    }

    /// <summary>One DKIM-Signature field (with its CRLF) by <paramref name="key"/> over the selected fields.</summary>
    internal static byte[] Sign(DkimKey key, string selector, string domain, long unixTime, byte[] bodyHash, IReadOnlyList<(string Name, byte[] Raw)> fields)
    {
        // h=: each signed name once per occurrence, From once more (over-signing).
        var names = new List<string>();
        foreach (string name in SignedFields)
        {
            int count = fields.Count(f => f.Name == name);
            for (int i = 0; i < count + (name == "from" ? 1 : 0); i++)
            {
                names.Add(name);
            }
        }

        string head = string.Create(CultureInfo.InvariantCulture,
            $"DKIM-Signature: v=1; a={key.Algorithm}; c=relaxed/relaxed; d={domain}; s={selector};\r\n\tt={unixTime}; h={FoldList(names)};\r\n\tbh={Convert.ToBase64String(bodyHash)};\r\n\tb=");
        byte[] headBytes = Encoding.ASCII.GetBytes(head);

        // The header hash: the selected fields, bottom-up per name as RFC 6376 5.4.2 says, each
        // canonicalised; then this field with b= empty and no CRLF.
        var data = new ArrayBufferWriter<byte>(4096);
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            int skip = used.GetValueOrDefault(name);
            used[name] = skip + 1;
            int seen = 0;
            for (int i = fields.Count - 1; i >= 0; i--)
            {
                if (fields[i].Name == name && seen++ == skip)
                {
                    DkimCanonicalization.RelaxedHeader(fields[i].Raw, data);
                    break;
                }
            }
        }

        DkimCanonicalization.RelaxedHeader(headBytes, data);
        byte[] digest = SHA256.HashData(data.WrittenSpan[..^2]);
        string signature = Convert.ToBase64String(key.SignDigest(digest));
        var field = new StringBuilder(head, head.Length + signature.Length + 16);
        for (int i = 0; i < signature.Length; i += 72)
        {
            if (i > 0)
            {
                field.Append("\r\n\t ");
            }

            field.Append(signature, i, Math.Min(72, signature.Length - i));
        }

        return Encoding.ASCII.GetBytes(field.Append("\r\n").ToString());
    }

    /// <summary>The h= names, folded every few names (FWS is allowed around the colons).</summary>
    private static string FoldList(List<string> names)
    {
        var text = new StringBuilder();
        int line = 0;
        for (int i = 0; i < names.Count; i++)
        {
            if (i > 0)
            {
                text.Append(':');
                if (line > 50)
                {
                    text.Append("\r\n\t ");
                    line = 0;
                }
            }

            text.Append(names[i]);
            line += names[i].Length + 1;
        }

        return text.ToString();
    }

    /// <summary>Null when the message is to be signed (<paramref name="domain"/> set), otherwise why not.</summary>
    private static string? SigningDomain(SmtpSettings settings, IReadOnlyList<(string Name, byte[] Raw)> fields, out string? domain)
    {
        domain = null;
        byte[][] from = [.. fields.Where(f => f.Name == "from").Select(f => f.Raw)];
        if (from.Length != 1)
        {
            return from.Length == 0 ? "no From field" : "more than one From field";
        }

        string? fromDomain = FromDomain(from[0]);
        if (fromDomain is null)
        {
            return "the From field holds no single address";
        }

        foreach (string candidate in settings.DkimDomains)
        {
            if (candidate.Equals(fromDomain, StringComparison.OrdinalIgnoreCase))
            {
                domain = candidate;
                return null;
            }
        }

        return $"From domain {fromDomain} is not in DKIM-DOMAIN";
    }

    /// <summary>
    /// The domain of the one address in a From field (<c>Name &lt;a@b&gt;</c> or <c>a@b</c>, comments
    /// and quoted names allowed), lower case; null for a group, a list or no address.
    /// </summary>
    internal static string? FromDomain(byte[] field)
    {
        string text = Encoding.UTF8.GetString(field);
        string value = text[(text.IndexOf(':', StringComparison.Ordinal) + 1)..].Replace("\r\n", string.Empty, StringComparison.Ordinal);
        string address = Unquoted(value);
        if (address.Contains(',', StringComparison.Ordinal) || address.Contains(';', StringComparison.Ordinal))
        {
            return null;
        }

        int open = address.LastIndexOf('<');
        if (open >= 0)
        {
            int close = address.IndexOf('>', open);
            if (close < 0)
            {
                return null;
            }

            address = address[(open + 1)..close];
        }

        int at = address.LastIndexOf('@');
        string domain = at < 0 ? string.Empty : address[(at + 1)..].Trim().TrimEnd('.');
        return domain.Length == 0 || domain.Any(char.IsWhiteSpace) ? null : domain.ToLowerInvariant();
    }

    /// <summary>
    /// The field value with comments left out and what is quoted or escaped masked with 'x' (so that a
    /// comma, "&lt;" or "@" in a display name is not taken for the address's).
    /// </summary>
    private static string Unquoted(string value)
    {
        var plain = new StringBuilder();
        bool quoted = false;
        int comment = 0;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c == '\\' && i + 1 < value.Length)
            {
                i++;
                plain.Append(quoted || comment > 0 ? 'x' : value[i]);
                continue;
            }

            if (comment > 0)
            {
                comment += c == '(' ? 1 : c == ')' ? -1 : 0;
                continue;
            }

            if (c == '"')
            {
                quoted = !quoted;
                plain.Append('x');
            }
            else if (quoted)
            {
                plain.Append(c == ',' || c == '<' || c == '@' ? 'x' : c);
            }
            else if (c == '(')
            {
                comment = 1;
            }
            else
            {
                plain.Append(c);
            }
        }

        return plain.ToString();
    }

    private KeySet Keys(SmtpSettings settings)
    {
        KeySet? known = _keys;
        var written = new DateTime[settings.DkimKeyPaths.Count];
        for (int i = 0; i < written.Length; i++)
        {
            written[i] = File.GetLastWriteTimeUtc(settings.DkimKeyPaths[i]);
        }

        if (known is not null && known.Paths.SequenceEqual(settings.DkimKeyPaths) && known.Written.SequenceEqual(written))
        {
            return known;
        }

        var keys = new DkimKey[settings.DkimKeyPaths.Count];
        for (int i = 0; i < keys.Length; i++)
        {
            try
            {
                keys[i] = DkimKey.Load(settings.DkimKeyPaths[i]);
            }
            catch (DkimKeyException e)
            {
                throw new DkimKeyException($"DKIM-KEY {settings.DkimKeyPaths[i]} (selector {settings.DkimSelectors[i]}): {e.Message}", e);
            }
        }

        // The keys replaced stay with the signatures in progress; the garbage collector frees them.
        var loaded = new KeySet([.. settings.DkimKeyPaths], written, keys);
        _keys = loaded;
        return loaded;
    }

    private static DkimKey LoadKey(SmtpSettings settings, int index)
    {
        string path = settings.DkimKeyPaths[index];
        string selector = settings.DkimSelectors[index];
        try
        {
            return DkimKey.Load(path);
        }
        catch (DkimKeyException e)
        {
            string fix = e.InnerException is FileNotFoundException or DirectoryNotFoundException
                ? $" (make one with: abilisfast dkim keygen --selector {selector} --wdir {settings.WorkDir})"
                : string.Empty;
            throw new ConfigurationException($"{settings.DkimKeySource}: DKIM-KEY {path} for selector {selector}: {e.Message}{fix}", e);
        }
    }

    // A class, not a record: nothing compares or prints it (see docs/performance.md, The binary's bytes).
    private sealed class KeySet(string[] paths, DateTime[] written, DkimKey[] keys)
    {
        public string[] Paths { get; } = paths;

        public DateTime[] Written { get; } = written;

        public DkimKey[] Keys { get; } = keys;
    }
}
