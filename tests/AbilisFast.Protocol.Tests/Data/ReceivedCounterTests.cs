using CsCheck;

namespace AbilisFast.Protocol.Tests.Data;

/// <summary>
/// The hop counter: <c>Received:</c> header fields only, whatever way the text is cut into pieces.
/// Examples first, then CsCheck properties against a line-by-line model written independently.
/// </summary>
public sealed partial class ReceivedCounterTests
{
    private static int CountWhole(string text)
    {
        var counter = new ReceivedCounter();
        counter.Feed(Encoding.Latin1.GetBytes(text));
        return counter.Count;
    }

    private static int CountSplit(byte[] text, int[] sizes, out bool headerEnded)
    {
        var counter = new ReceivedCounter();
        int position = 0;
        for (int i = 0; position < text.Length; i++)
        {
            int size = Math.Min(sizes[i % sizes.Length], text.Length - position);
            counter.Feed(text.AsSpan(position, size));
            position += size;
        }

        headerEnded = counter.HeaderEnded;
        return counter.Count;
    }

    [Theory]
    [InlineData("Received: from a\r\nReceived: from b\r\nSubject: x\r\n\r\nbody\r\n", 2)]
    [InlineData("received: a\r\nRECEIVED: b\r\nReCeIvEd: c\r\n\r\n", 3)]
    [InlineData("Received : obsolete space before the colon\r\nReceived\t:tab\r\n\r\n", 2)]
    [InlineData("Subject: x\r\n\r\nReceived: in the body\r\nReceived: again\r\n", 0)]
    [InlineData("Subject: folded\r\n Received: inside a folded field\r\n\tReceived: and with a tab\r\n\r\n", 0)]
    [InlineData("Received: from a\r\n\tby b; folded over\r\n three lines\r\nReceived: from c\r\n\r\n", 2)]
    [InlineData("X-Received: no\r\nReceived-SPF: no\r\nReceivedx: no\r\nRe-ceived: no\r\nReceive: no\r\n\r\n", 0)]
    [InlineData("Received: counted\r\nThis line is no header field\r\nReceived: body now\r\n", 1)]
    [InlineData("Received: counted\r\nReceived no colon\r\nReceived: body now\r\n", 1)]
    [InlineData(" Received: a continuation with nothing above it is body\r\n", 0)]
    [InlineData("\r\nReceived: after the empty first line\r\n", 0)]
    [InlineData("Received: a\nReceived: bare LF lines count the same\n\nReceived: body\n", 2)]
    [InlineData("Received:", 1)]
    [InlineData("Received", 0)]
    [InlineData("", 0)]
    public void CountsOnlyReceivedHeaderFields(string text, int expected)
    {
        Assert.Equal(expected, CountWhole(text));
        Assert.Equal(expected, CountSplit(Encoding.Latin1.GetBytes(text), [1], out _));
    }

    [Fact]
    public void TheHeaderSectionEndsAtTheEmptyLine()
    {
        var counter = new ReceivedCounter();
        counter.Feed("Received: a\r\nSubject: b\r\n"u8);
        Assert.False(counter.HeaderEnded);
        counter.Feed("\r"u8);
        Assert.True(counter.HeaderEnded);
        counter.Feed("\nReceived: c\r\n"u8);
        Assert.Equal(1, counter.Count);
        counter.Reset();
        Assert.Equal(0, counter.Count);
        Assert.False(counter.HeaderEnded);
    }

    [Fact]
    public void AHundredAndOneHopsAreCountedInAnyCut()
    {
        string headers = string.Concat(Enumerable.Range(0, 101).Select(i => $"Received: from hop{i}.test ([127.0.0.1])\r\n\tby hop{i + 1}.test (AbilisFast) with ESMTP id {i:X8};\r\n\tSat, 28 Nov 2026 19:16:37 +0000\r\n"));
        byte[] text = Encoding.ASCII.GetBytes(headers + "Subject: loop\r\n\r\n" + string.Concat(Enumerable.Repeat("Received: body text\r\n", 50)));
        foreach (int size in (int[])[1, 2, 3, 7, 9, 10, 64, 4096])
        {
            Assert.Equal(101, CountSplit(text, [size], out bool ended));
            Assert.True(ended);
        }
    }

    /// <summary>Lines rich in near misses: every way a line can look like, or not like, a Received field.</summary>
    private static readonly Gen<string> Line = Gen.Frequency(
        (6, Gen.OneOf(
            Gen.Const("Received: from a.test"), Gen.Const("received :x"), Gen.Const("RECEIVED\t: y"), Gen.Const("Received:"),
            Gen.Const("Received"), Gen.Const("X-Received: no"), Gen.Const(" Received: folded"), Gen.Const("\tReceived: folded"),
            Gen.Const(string.Empty), Gen.Const("Subject: hi"), Gen.Const("Receivedx: no"), Gen.Const("Rec eived: no"),
            Gen.Const("Re\u00e7eived: no"), Gen.Const("\tby b.test; continued"), Gen.Const("From:a"), Gen.Const(":no name"))),
        (1, Gen.Char["\t\r :Rabcdeiv\u00ff"].Array[0, 12].Select(c => new string(c))));

    private static readonly Gen<(byte[] Text, int[] Sizes)> Input =
        Gen.Select(Line.Array[0, 30], Gen.Bool, Gen.Int[1, 9].Array[1, 6],
            (lines, crlf, sizes) => (Encoding.Latin1.GetBytes(string.Join(crlf ? "\r\n" : "\n", lines) + (crlf ? "\r\n" : "\n")), sizes));

    [Fact]
    public void AnyCutCountsWhatTheLineModelCounts() =>
        Input.Sample(input =>
        {
            int expected = ReceivedModel.Count(input.Text);
            Assert.Equal(expected, CountSplit(input.Text, input.Sizes, out _));
            Assert.Equal(expected, CountSplit(input.Text, [input.Text.Length + 1], out _));
        }, iter: 3000, threads: 1);

    [Fact]
    public void NothingAfterTheHeaderSectionChangesTheCount() =>
        Gen.Select(Input, Line.Array[0, 20]).Sample((input, body) =>
        {
            byte[] head = input.Text;
            // The text ends with a line end, so the CRLF appended here is an empty line: the body starts.
            int before = CountSplit(head, input.Sizes, out _);
            byte[] withBody = [.. head, .. "\r\n"u8, .. Encoding.Latin1.GetBytes(string.Join("\r\n", body))];
            Assert.Equal(before, CountSplit(withBody, input.Sizes, out bool ended));
            Assert.True(ended);
        }, iter: 2000, threads: 1);
}
