namespace AbilisFast.Server.Configuration;

/// <summary>
/// Applies a configuration file to a <see cref="ParameterStore"/>. Each line holds
/// <c>NAME:VALUE</c> tokens (see <see cref="ConfigLineTokenizer"/>) or one list definition
/// <c>iplist NAME: net, net, …</c>. Stops at the first error with one line naming FILE:LINE.
/// </summary>
internal static class ConfigFileReader
{
    private const string IpListKeyword = "iplist";

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

            tokens.Clear();
            if (!ConfigLineTokenizer.TryTokenize(line, tokens, out string tokenError))
            {
                throw new ConfigurationException($"{source}: {tokenError}");
            }

            foreach (string token in tokens)
            {
                ApplyToken(store, token, source);
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

    private static bool TryIpList(
        ReadOnlySpan<char> line,
        out ReadOnlySpan<char> name,
        out ReadOnlySpan<char> value,
        out bool malformed)
    {
        name = value = default;
        malformed = false;
        if (line.Length <= IpListKeyword.Length
            || !line.StartsWith(IpListKeyword, StringComparison.OrdinalIgnoreCase)
            || !char.IsWhiteSpace(line[IpListKeyword.Length]))
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
