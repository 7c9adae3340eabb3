using System.Text;

namespace AbilisFast.Server.Configuration;

/// <summary>
/// Splits one configuration line into white-space separated tokens. A <c>#</c> starts a comment
/// only at the start of a token (start of line or after white space), so <c>RELAY-NET:#</c> is a
/// value. Double quotes anywhere in a token keep white space and <c>#</c>; inside quotes
/// <c>\"</c> and <c>\\</c> stand for <c>"</c> and <c>\</c>.
/// </summary>
internal static class ConfigLineTokenizer
{
    public static bool TryTokenize(ReadOnlySpan<char> line, List<string> tokens, out string error)
    {
        error = string.Empty;
        var token = new StringBuilder();
        int i = 0;
        while (true)
        {
            while (i < line.Length && char.IsWhiteSpace(line[i]))
            {
                i++;
            }

            if (i == line.Length || line[i] == '#')
            {
                return true;
            }

            token.Clear();
            bool quoted = false;
            for (; i < line.Length && (quoted || !char.IsWhiteSpace(line[i])); i++)
            {
                char c = line[i];
                if (c == '"')
                {
                    quoted = !quoted;
                }
                else if (quoted && c == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\')
                {
                    token.Append(line[++i]);
                }
                else
                {
                    token.Append(c);
                }
            }

            if (quoted)
            {
                // Name only: the value may be a password.
                string text = token.ToString();
                int colon = text.IndexOf(':');
                error = (colon > 0 ? text[..(colon + 1)] : string.Empty) + "\"... is invalid: unterminated quote";
                return false;
            }

            tokens.Add(token.ToString());
        }
    }

    /// <summary>Strips a comment (a <c>#</c> at the start or after white space) from raw text.</summary>
    public static ReadOnlySpan<char> StripComment(ReadOnlySpan<char> text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '#' && (i == 0 || char.IsWhiteSpace(text[i - 1])))
            {
                return text[..i];
            }
        }

        return text;
    }

    /// <summary>Quotes a value when it holds white space or quotes, so it reads back unchanged.</summary>
    public static string Quote(string value)
    {
        bool needs = false;
        foreach (char c in value)
        {
            needs |= char.IsWhiteSpace(c) || c == '"';
        }

        if (!needs)
        {
            return value;
        }

        return "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }
}
