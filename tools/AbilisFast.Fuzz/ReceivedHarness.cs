using System.Text;
using AbilisFast.Protocol.Data;
using AbilisFast.Testing;

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

        int model = ReceivedModel.Count(text);
        if (whole.Count != model)
        {
            throw new FuzzInvariantException($"counted {whole.Count} Received fields, the line model counts {model}");
        }
    }
}
