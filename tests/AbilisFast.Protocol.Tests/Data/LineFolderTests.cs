using System.Text.Unicode;
using CsCheck;

namespace AbilisFast.Protocol.Tests.Data;

/// <summary>
/// <see cref="LineFolder"/>: lines over 998 octets broken with CRLF SPACE (Postfix's
/// smtp_line_length_limit), counted as they go on the wire after dot-stuffing, never inside a UTF-8
/// sequence, the same whatever the chunking.
/// </summary>
public sealed class LineFolderTests
{
    private const int Max = LineFolder.MaxLineLength;

    /// <summary>Folds <paramref name="text"/> fed in chunks of the sizes in <paramref name="chunks"/>, then the rest.</summary>
    private static byte[] Fold(byte[] text, IEnumerable<int>? chunks, out long folds)
    {
        var folder = new LineFolder();
        var output = new List<byte>();
        int at = 0;
        foreach (int size in (chunks ?? []).Append(text.Length))
        {
            int end = Math.Min(at + size, text.Length);
            byte[] destination = new byte[LineFolder.GetMaxFoldedLength(end - at)];
            output.AddRange(folder.Fold(text.AsSpan(at, end - at), destination));
            at = end;
        }

        folds = folder.Folds;
        return [.. output];
    }

    /// <summary>Folded, then dot-stuffed with the end-of-data line: the bytes on the wire.</summary>
    private static byte[] Wire(byte[] folded)
    {
        var dots = new DotStuffEncoder();
        byte[] output = new byte[(2 * folded.Length) + DotStuffer.MaxFinishLength];
        Assert.Equal(OperationStatus.Done, dots.Encode(folded, output, out _, out int written));
        Assert.Equal(OperationStatus.Done, dots.Finish(output.AsSpan(written), out int end));
        return output[..(written + end)];
    }

    private static List<byte[]> Lines(byte[] wire)
    {
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i + 1 < wire.Length; i++)
        {
            if (wire[i] == (byte)'\r' && wire[i + 1] == (byte)'\n')
            {
                lines.Add(wire[start..i]);
                start = i + 2;
                i++;
            }
        }

        return lines;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(997)]
    [InlineData(998)]
    public void ALineUpToTheLimitIsLeftAlone(int length)
    {
        byte[] text = Encoding.ASCII.GetBytes(new string('x', length) + "\r\nnext\r\n");
        Assert.Equal(text, Fold(text, null, out long folds));
        Assert.Equal(0, folds);

        // Nothing to fold: the text itself comes back, nothing is copied.
        var folder = new LineFolder();
        byte[] destination = new byte[LineFolder.GetMaxFoldedLength(text.Length)];
        ReadOnlySpan<byte> result = folder.Fold(text, destination);
        Assert.True(result == text.AsSpan(), "the text was copied");
    }

    [Fact]
    public void A999OctetLineGetsOneBreakAt998()
    {
        byte[] text = Encoding.ASCII.GetBytes(new string('x', 999) + "\r\n");
        byte[] folded = Fold(text, null, out long folds);
        Assert.Equal(new string('x', 998) + "\r\n x\r\n", Encoding.ASCII.GetString(folded));
        Assert.Equal(1, folds);
    }

    [Fact]
    public void A5000OctetLineBecomesSixWireLinesThatUnfoldToIt()
    {
        string line = string.Concat(Enumerable.Range(0, 5000).Select(i => (char)('a' + (i % 26))));
        byte[] folded = Fold(Encoding.ASCII.GetBytes("Subject: long\r\n\r\n" + line + "\r\nafter\r\n"), null, out long folds);
        Assert.Equal(5, folds); // 998, then 997 after each SPACE: 998 + 4 * 997 = 4986, the 6th line holds the rest
        List<byte[]> wire = Lines(Wire(folded));
        Assert.All(wire, l => Assert.True(l.Length <= Max, $"{l.Length} octets"));
        Assert.Equal(line, Encoding.ASCII.GetString(folded).Split("\r\n")[2..8].Aggregate((a, b) => a + b[1..]));
        Assert.Equal([998, 998, 998, 998, 998, 15], wire.Skip(2).Take(6).Select(l => l.Length));
    }

    [Fact]
    public void TheDotThatStuffingAddsIsCounted()
    {
        // 998 octets starting with a dot go out as 999 ("..xxx"): the folder breaks one octet earlier.
        byte[] text = Encoding.ASCII.GetBytes("." + new string('x', 997) + "\r\n");
        byte[] folded = Fold(text, null, out long folds);
        Assert.Equal(1, folds);
        Assert.Equal("." + new string('x', 996) + "\r\n x\r\n", Encoding.ASCII.GetString(folded));
        Assert.All(Lines(Wire(folded)), l => Assert.True(l.Length <= Max));
    }

    [Theory]
    [InlineData("é")]
    [InlineData("€")]
    [InlineData("😀")]
    public void ABreakNeverSplitsAUtf8Sequence(string character)
    {
        int width = Encoding.UTF8.GetByteCount(character);
        for (int lead = Max - width - 1; lead <= Max + 1; lead++)
        {
            byte[] text = Encoding.UTF8.GetBytes(new string('a', lead) + character + "bc\r\n");
            foreach (int cut in (int[])[text.Length, lead, lead + 1, lead + width - 1])
            {
                byte[] folded = Fold(text, [cut], out _);
                Assert.All(Lines(Wire(folded)), l =>
                {
                    Assert.True(l.Length <= Max, $"{l.Length} octets (lead {lead}, cut {cut})");
                    Assert.True(Utf8.IsValid(l), $"a line is not valid UTF-8 (lead {lead}, cut {cut})");
                });
                Assert.Equal(new string('a', lead) + character + "bc", Encoding.UTF8.GetString(folded).Replace("\r\n ", "", StringComparison.Ordinal).TrimEnd());
            }
        }
    }

    [Fact]
    public void TheDestinationMustHaveRoomForTheWorstCase()
    {
        var folder = new LineFolder();
        byte[] text = new byte[3000];
        Assert.Throws<ArgumentException>(() => folder.Fold(text, new byte[3000]).Length);
    }

    /// <summary>Lines of any length made of ASCII, dots and 2-, 3- and 4-octet UTF-8; no line starts with a space.</summary>
    private static readonly Gen<byte[]> Text =
        Gen.Frequency(
            (4, Gen.Int[0, 2600].Select(n => new string('x', n))),
            (2, Gen.OneOf(Gen.Const("."), Gen.Const("é"), Gen.Const("€"), Gen.Const("😀"), Gen.Const("a b"))),
            (1, Gen.Const("\r\n")))
        .Array[0, 12]
        .Select(parts => Encoding.UTF8.GetBytes(string.Concat(parts)));

    [Fact]
    public void AnyTextFoldsWithinTheLimitUnfoldsToItselfAndChunkingChangesNothing() =>
        Gen.Select(Text, Gen.Int[1, 1500].Array[0, 8]).Sample((text, cuts) =>
        {
            byte[] whole = Fold(text, null, out long folds);
            byte[] chunked = Fold(text, cuts, out long chunkedFolds);
            Assert.Equal(whole, chunked);
            Assert.Equal(folds, chunkedFolds);

            // Every wire line within 998 octets and valid UTF-8; taking the breaks out gives the text back.
            Assert.All(Lines(Wire(whole)), l => Assert.True(l.Length <= Max && Utf8.IsValid(l), $"{l.Length} octets"));
            string unfolded = Encoding.UTF8.GetString(whole).Replace("\r\n ", "", StringComparison.Ordinal);
            Assert.Equal(Encoding.UTF8.GetString(text), unfolded);
            Assert.Equal(folds, (whole.Length - text.Length) / 3);
        }, iter: 500, threads: 1);
}
