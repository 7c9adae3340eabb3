namespace AbilisFast.Protocol.Tests.Lines;

public class LineReaderTests
{
    private static List<(string Text, LineFlags Flags)> ReadAll(ReadOnlySequence<byte> buffer, out long remaining, int max = LineReader.MaxCommandLine)
    {
        var lines = new List<(string, LineFlags)>();
        Span<byte> scratch = stackalloc byte[max];
        while (true)
        {
            LineStatus status = LineReader.TryRead(ref buffer, scratch, max, out ReadOnlySpan<byte> line, out LineFlags flags);
            if (status != LineStatus.Line)
            {
                break;
            }

            lines.Add((Encoding.Latin1.GetString(line), flags));
        }

        remaining = buffer.Length;
        return lines;
    }

    [Fact]
    public void EveryPrefixOfValidLinesGivesOnlyTheCompleteLines()
    {
        byte[] input = "EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"u8.ToArray();
        string[] expected = ["EHLO client.example", "MAIL FROM:<a@b.example>", "RCPT TO:<c@d.example>", "DATA"];
        for (int length = 0; length <= input.Length; length++)
        {
            var lines = ReadAll(new ReadOnlySequence<byte>(input, 0, length), out long remaining);
            int complete = CountLf(input.AsSpan(0, length));
            Assert.Equal(expected.Take(complete), lines.Select(l => l.Text));
            Assert.All(lines, l => Assert.Equal(LineFlags.None, l.Flags));
            int consumedExpected = complete == 0 ? 0 : input.AsSpan(0, length).LastIndexOf((byte)'\n') + 1;
            Assert.Equal(length - consumedExpected, remaining);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void SplitSegmentsGiveTheSameLines(int segmentSize)
    {
        byte[] input = "HELO x\r\nNOOP\r\nMAIL FROM:<>\r\npartial"u8.ToArray();
        var lines = ReadAll(Sequences.Split(input, segmentSize), out long remaining);
        Assert.Equal(["HELO x", "NOOP", "MAIL FROM:<>"], lines.Select(l => l.Text));
        Assert.Equal("partial".Length, remaining);
    }

    [Fact]
    public void EverySplitPointGivesTheSameLines()
    {
        byte[] input = "RCPT TO:<someone@example.org>\r\nQUIT\r\n"u8.ToArray();
        for (int at = 0; at <= input.Length; at++)
        {
            var lines = ReadAll(Sequences.SplitAt(input, at), out long remaining);
            Assert.Equal(["RCPT TO:<someone@example.org>", "QUIT"], lines.Select(l => l.Text));
            Assert.Equal(0, remaining);
        }
    }

    [Fact]
    public void BareLfAndBareCrAreFlagged()
    {
        var lines = ReadAll(new ReadOnlySequence<byte>("NOOP\nNO\rOP\r\nA\r\rB\n"u8.ToArray()), out _);
        Assert.Equal(("NOOP", LineFlags.BareLf), lines[0]);
        Assert.Equal(("NO\rOP", LineFlags.BareCr), lines[1]);
        Assert.Equal(("A\r\rB", LineFlags.BareLf | LineFlags.BareCr), lines[2]);
    }

    [Fact]
    public void LineOfExactlyTheCapIsAccepted()
    {
        string text = new('a', LineReader.MaxCommandLine - 2);
        var lines = ReadAll(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text + "\r\n")), out _);
        Assert.Equal(text, Assert.Single(lines).Text);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(100_000)]
    public void OverCapIsTooLongWithoutSearchingFurther(int segmentSize)
    {
        byte[] input = Encoding.ASCII.GetBytes(new string('a', LineReader.MaxCommandLine - 1) + "\r\nNOOP\r\n");
        ReadOnlySequence<byte> buffer = Sequences.Split(input, segmentSize);
        Span<byte> scratch = stackalloc byte[LineReader.MaxCommandLine];
        Assert.Equal(LineStatus.TooLong, LineReader.TryRead(ref buffer, scratch, LineReader.MaxCommandLine, out _, out _));
        Assert.Equal(input.Length, buffer.Length);

        Assert.True(LineReader.SkipLine(ref buffer));
        Assert.Equal(LineStatus.Line, LineReader.TryRead(ref buffer, scratch, LineReader.MaxCommandLine, out ReadOnlySpan<byte> line, out _));
        Assert.Equal("NOOP"u8.ToArray(), line.ToArray());
    }

    [Fact]
    public void SkipLineWithoutLfDiscardsEverything()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[10_000]);
        Assert.False(LineReader.SkipLine(ref buffer));
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void ShortIncompleteLineAsksForMore()
    {
        var buffer = new ReadOnlySequence<byte>("MAIL FROM:<a@b>\r"u8.ToArray());
        Span<byte> scratch = stackalloc byte[LineReader.MaxCommandLine];
        Assert.Equal(LineStatus.Incomplete, LineReader.TryRead(ref buffer, scratch, LineReader.MaxCommandLine, out _, out _));
        Assert.Equal(16, buffer.Length);
    }

    [Fact]
    public void ReadingLinesAllocatesNothing()
    {
        byte[] input = "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"u8.ToArray();
        ReadOnlySequence<byte> split = Sequences.SplitAt(input, 10);
        Span<byte> scratch = stackalloc byte[LineReader.MaxCommandLine];
        int count = 0;
        for (int warm = 0; warm < 2; warm++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10_000; i++)
            {
                ReadOnlySequence<byte> buffer = (i & 1) == 0 ? new ReadOnlySequence<byte>(input) : split;
                while (LineReader.TryRead(ref buffer, scratch, LineReader.MaxCommandLine, out ReadOnlySpan<byte> line, out _) == LineStatus.Line)
                {
                    count += line.Length;
                }
            }

            if (warm == 1)
            {
                Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            }
        }

        Assert.True(count > 0);
    }

    private static int CountLf(ReadOnlySpan<byte> data) => data.Count((byte)'\n');
}
