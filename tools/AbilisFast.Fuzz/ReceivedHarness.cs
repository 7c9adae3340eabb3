using System.Text;
using System.Text.RegularExpressions;
using AbilisFast.Protocol.Data;

namespace AbilisFast.Fuzz;

/// <summary>
/// The hop counter target (<see cref="ReceivedCounter"/>, what HOP-LIMIT compares): the first byte
/// seeds the cutting of the rest, the message text, into pieces (1 to 64 bytes each; 0: one piece).
/// Checks: the count is the same however the text is cut, it is what a line-by-line model of the
/// documented rule counts (the header section's <c>Received:</c> fields, in any case, with
/// optional white space before the colon, never a continuation or a body line), and once the
/// counter says the header section has ended it stays ended and the count no longer moves.
/// </summary>
internal static partial class ReceivedHarness
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        ReadOnlySpan<byte> text = data[1..];
        var whole = default(ReceivedCounter);
        whole.Feed(text);

        var cut = default(ReceivedCounter);
        var random = new Random(data[0]);
        int position = 0;
        bool ended = false;
        int countAtEnd = 0;
        while (position < text.Length)
        {
            int size = data[0] == 0 ? text.Length : Math.Min(random.Next(1, 65), text.Length - position);
            cut.Feed(text.Slice(position, size));
            position += size;
            if (ended && (!cut.HeaderEnded || cut.Count != countAtEnd))
            {
                throw new FuzzInvariantException($"the count moved after the header section ended ({countAtEnd} -> {cut.Count})");
            }

            if (cut.HeaderEnded)
            {
                ended = true;
                countAtEnd = cut.Count;
            }
        }

        if (cut.Count != whole.Count || cut.HeaderEnded != whole.HeaderEnded)
        {
            throw new FuzzInvariantException($"cut into pieces: {cut.Count} (ended {cut.HeaderEnded}); in one piece: {whole.Count} (ended {whole.HeaderEnded})");
        }

        int model = Model(text);
        if (whole.Count != model)
        {
            throw new FuzzInvariantException($"counted {whole.Count} Received fields, the line model counts {model}");
        }
    }

    /// <summary>
    /// Split at LF; the header section is the lines up to the first one that is neither
    /// "name[WSP]:" (name: printable ASCII but ':') nor a continuation (not allowed as the first
    /// line); count the names that are "received" in any case.
    /// </summary>
    private static int Model(ReadOnlySpan<byte> text)
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
