namespace AbilisFast.Testing;

/// <summary>
/// The reference model of the Received counter, written the slow and obvious way, for the property
/// tests and the fuzz harness: split at LF; the header section is the lines up to the first one
/// that is neither "name[WSP]:" (name = printable ASCII except ':') nor a continuation (a
/// continuation is not allowed as the first line); count the names equal to "received" in any case.
/// </summary>
public static partial class ReceivedModel
{
    public static int Count(ReadOnlySpan<byte> text)
    {
        string[] lines = Encoding.Latin1.GetString(text).Split('\n');
        int count = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (i > 0 && line.Length > 0 && line[0] is ' ' or '\t')
            {
                continue;
            }

            Match field = FieldLine().Match(line);
            if (!field.Success)
            {
                break;
            }

            if (field.Groups[1].Value.Equals("received", StringComparison.OrdinalIgnoreCase))
            {
                count++;
            }
        }

        return count;
    }

    [GeneratedRegex(@"^([\x21-\x39\x3B-\x7E]+)[ \t]*:")]
    private static partial Regex FieldLine();
}
