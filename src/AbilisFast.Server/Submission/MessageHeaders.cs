using System.Text;

namespace AbilisFast.Server.Submission;

/// <summary>One header field of a message: its name, its unfolded value and where its bytes are (folded lines included).</summary>
internal readonly record struct HeaderField(string Name, string Value, int Start, int End);

/// <summary>
/// The header section of a message handed to <c>sendmail</c> (RFC 5322 section 2.2): where it ends,
/// its fields, and the edits sendmail and the pickup make to it (Bcc removed, missing Date,
/// Message-ID and From added, as Postfix's cleanup does). Line ends may be LF or CRLF.
/// </summary>
internal static class MessageHeaders
{
    /// <summary>
    /// The offset where the header section ends: the start of the empty line that separates it from
    /// the body, or of the first line that is not a header field (then there is no empty line:
    /// <paramref name="hasSeparator"/> is false), or the end of the message.
    /// </summary>
    public static int End(ReadOnlySpan<byte> message, out bool hasSeparator)
    {
        int position = 0;
        bool first = true;
        while (position < message.Length)
        {
            int lineEnd = message[position..].IndexOf((byte)'\n');
            int next = lineEnd < 0 ? message.Length : position + lineEnd + 1;
            ReadOnlySpan<byte> line = message[position..next].TrimEnd("\r\n"u8);
            if (line.Length == 0)
            {
                hasSeparator = true;
                return position;
            }

            bool continuation = line[0] is (byte)' ' or (byte)'\t';
            if ((continuation && first) || (!continuation && !IsFieldStart(line)))
            {
                hasSeparator = false;
                return position;
            }

            first = false;
            position = next;
        }

        hasSeparator = false;
        return position;
    }

    /// <summary>The fields of the header section, in order, with unfolded values (UTF-8).</summary>
    public static List<HeaderField> Fields(ReadOnlySpan<byte> message)
    {
        int end = End(message, out _);
        var fields = new List<HeaderField>();
        int position = 0;
        while (position < end)
        {
            int start = position;
            int next = LineAfter(message, position, end);
            while (next < end && message[next] is (byte)' ' or (byte)'\t')
            {
                next = LineAfter(message, next, end);
            }

            string text = Encoding.UTF8.GetString(message[start..next]).Replace("\r", string.Empty, StringComparison.Ordinal).Replace("\n", string.Empty, StringComparison.Ordinal);
            int colon = text.IndexOf(':', StringComparison.Ordinal);
            fields.Add(new HeaderField(text[..colon].TrimEnd(), text[(colon + 1)..].Trim(), start, next));
            position = next;
        }

        return fields;
    }

    /// <summary>Whether a field named <paramref name="name"/> is in the header section.</summary>
    public static bool Has(List<HeaderField> fields, string name) =>
        fields.Exists(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The recipients that <c>sendmail -t</c> takes: those of the Resent-To, Resent-Cc and Resent-Bcc
    /// fields when the message has any of them (it is being resent), else those of To, Cc and Bcc.
    /// </summary>
    public static List<string> Recipients(List<HeaderField> fields)
    {
        string[] resent = ["Resent-To", "Resent-Cc", "Resent-Bcc"];
        string[] names = fields.Exists(f => resent.Contains(f.Name, StringComparer.OrdinalIgnoreCase)) ? resent : ["To", "Cc", "Bcc"];
        return [.. fields.Where(f => names.Contains(f.Name, StringComparer.OrdinalIgnoreCase)).SelectMany(f => AddressList.Parse(f.Value))];
    }

    /// <summary>The message without its Bcc and Resent-Bcc fields (folded lines included).</summary>
    public static byte[] WithoutBcc(ReadOnlySpan<byte> message)
    {
        List<HeaderField> fields = Fields(message);
        var output = new List<byte>(message.Length);
        int position = 0;
        foreach (HeaderField field in fields.Where(f => f.Name.Equals("Bcc", StringComparison.OrdinalIgnoreCase) || f.Name.Equals("Resent-Bcc", StringComparison.OrdinalIgnoreCase)))
        {
            output.AddRange(message[position..field.Start]);
            position = field.End;
        }

        output.AddRange(message[position..]);
        return [.. output];
    }

    /// <summary>
    /// Adds the fields in <paramref name="added"/> (each a whole "Name: value" line without its line
    /// end) at the end of the header section, with CRLF; when the message has no empty line after its
    /// header section, one is added so that what followed stays body.
    /// </summary>
    public static byte[] Append(ReadOnlySpan<byte> message, IReadOnlyList<string> added)
    {
        if (added.Count == 0)
        {
            return message.ToArray();
        }

        int end = End(message, out bool hasSeparator);
        var text = new StringBuilder();
        foreach (string field in added)
        {
            text.Append(field).Append("\r\n");
        }

        if (!hasSeparator)
        {
            text.Append("\r\n");
        }

        byte[] insert = Encoding.UTF8.GetBytes(text.ToString());
        var output = new byte[message.Length + insert.Length];
        message[..end].CopyTo(output);
        insert.CopyTo(output, end);
        message[end..].CopyTo(output.AsSpan(end + insert.Length));
        return output;
    }

    /// <summary>A field name (printable ASCII but ':' and space) followed by ':'.</summary>
    private static bool IsFieldStart(ReadOnlySpan<byte> line)
    {
        int colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }

        foreach (byte b in line[..colon].TrimEnd((byte)' '))
        {
            if (b is < 33 or > 126)
            {
                return false;
            }
        }

        return line[..colon].TrimEnd((byte)' ').Length > 0;
    }

    private static int LineAfter(ReadOnlySpan<byte> message, int position, int end)
    {
        int lineEnd = message[position..end].IndexOf((byte)'\n');
        return lineEnd < 0 ? end : position + lineEnd + 1;
    }
}
