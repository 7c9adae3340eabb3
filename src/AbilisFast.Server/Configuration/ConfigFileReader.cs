namespace AbilisFast.Server.Configuration;

/// <summary>
/// Applies a configuration file to a <see cref="ParameterStore"/>. Each line holds
/// <c>NAME:VALUE</c> tokens (see <see cref="ConfigLineTokenizer"/>) or one list definition
/// <c>iplist NAME: net, net, …</c>, or IPBAN parameters <c>ipban NAME:VALUE [NAME:VALUE …]</c>.
/// Stops at the first error with one line naming FILE:LINE.
/// </summary>
internal static class ConfigFileReader
{
    private const string IpListKeyword = "iplist";
    public const string IpBanKeyword = "ipban";

    /// <summary>Reads <paramref name="path"/>; sources are reported as <c>displayName:LINE</c>.</summary>
    public static void Apply(ParameterStore store, string path, string? displayName = null)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string reason = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message;
            throw new ConfigurationException($"{displayName ?? path}: cannot read configuration file: {reason}", e);
        }

        ApplyLines(store, lines, displayName ?? path);
    }

    public static void ApplyLines(ParameterStore store, IReadOnlyList<string> lines, string fileName)
    {
        var tokens = new List<string>();
        for (int n = 0; n < lines.Count; n++)
        {
            string source = $"{fileName}:{n + 1}";
            ReadOnlySpan<char> line = lines[n].AsSpan().Trim();
            if (TryIpList(line, out ReadOnlySpan<char> listName, out ReadOnlySpan<char> listValue, out bool malformed))
            {
                if (malformed)
                {
                    throw new ConfigurationException($"{source}: {line} is invalid: allowed iplist NAME: net, net, ...");
                }

                if (!store.TryDefineIpList(listName.ToString(), listValue.ToString(), source, out string listError))
                {
                    throw new ConfigurationException(listError);
                }

                continue;
            }

            bool ipban = IsKeywordLine(line, IpBanKeyword);
            tokens.Clear();
            if (!ConfigLineTokenizer.TryTokenize(ipban ? line[IpBanKeyword.Length..] : line, tokens, out string tokenError))
            {
                throw new ConfigurationException($"{source}: {tokenError}");
            }

            if (ipban && tokens.Count == 0)
            {
                throw new ConfigurationException($"{source}: {line} is invalid: allowed ipban NAME:VALUE [NAME:VALUE ...]");
            }

            foreach (string token in tokens)
            {
                if (ipban)
                {
                    ApplyIpBanToken(store, token, source);
                }
                else
                {
                    ApplyToken(store, token, source);
                }
            }
        }
    }

    /// <summary>Applies one <c>NAME:VALUE</c> token; throws with the one-line error.</summary>
    public static void ApplyToken(ParameterStore store, string token, string source)
    {
        int colon = token.IndexOf(':');
        if (colon <= 0)
        {
            throw new ConfigurationException($"{source}: {token} is not NAME:VALUE (see --help)");
        }

        if (!store.TrySet(token[..colon], token[(colon + 1)..], source, out string error))
        {
            throw new ConfigurationException(error);
        }
    }

    /// <summary>Applies one IPBAN <c>NAME:VALUE</c> token of an <c>ipban</c> line; throws with the one-line error.</summary>
    public static void ApplyIpBanToken(ParameterStore store, string token, string source)
    {
        int colon = token.IndexOf(':');
        if (colon <= 0)
        {
            throw new ConfigurationException($"{source}: ipban {token} is not NAME:VALUE; allowed {string.Join(", ", IpBanParameters.Names)}");
        }

        if (!store.TrySetIpBan(token[..colon], token[(colon + 1)..], source, out string error))
        {
            throw new ConfigurationException(error);
        }
    }

    /// <summary>True when <paramref name="line"/> starts with <paramref name="keyword"/> and white space.</summary>
    private static bool IsKeywordLine(ReadOnlySpan<char> line, string keyword) =>
        line.Length > keyword.Length
        && line.StartsWith(keyword, StringComparison.OrdinalIgnoreCase)
        && char.IsWhiteSpace(line[keyword.Length]);

    private static bool TryIpList(
        ReadOnlySpan<char> line,
        out ReadOnlySpan<char> name,
        out ReadOnlySpan<char> value,
        out bool malformed)
    {
        name = value = default;
        malformed = false;
        if (!IsKeywordLine(line, IpListKeyword))
        {
            return false;
        }

        ReadOnlySpan<char> rest = ConfigLineTokenizer.StripComment(line[IpListKeyword.Length..]).Trim();
        int colon = rest.IndexOf(':');
        if (colon <= 0)
        {
            malformed = true;
            return true;
        }

        name = rest[..colon].Trim();
        value = rest[(colon + 1)..].Trim();
        return true;
    }
}
