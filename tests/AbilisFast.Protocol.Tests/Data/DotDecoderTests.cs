using static AbilisFast.Protocol.Tests.Data.DecodeHelper;

namespace AbilisFast.Protocol.Tests.Data;

public sealed class DotDecoderTests
{
    // Smuggling-style fake terminators, each placed between "A" and "B", followed by a real terminator.
    // Expected: the decoded content between "A" and "B\r\n".
    public static TheoryData<string, string> FakeTerminators => new()
    {
        { "\n.\n", "\r\n.\r\n" },
        { "\n.\r\n", "\r\n.\r\n" },
        { "\r\n.\n", "\r\n\r\n" },
        { "\r.\r", "\r\n.\r\n" },
        { "\r.\r\n", "\r\n.\r\n" },
        { "\r\n.\r", "\r\n\r\n" },
        { "\r\n\0.\r\n", "\r\n\0.\r\n" },
        { "\r\n.\0\r\n", "\r\n\0\r\n" },
        { "\r\n..\r\n", "\r\n.\r\n" },
        { "\n..\n", "\r\n..\r\n" },
        { "\r..\r", "\r\n..\r\n" },
        { "\r\n .\r\n", "\r\n .\r\n" },
        { "\r\n.\r\r\n", "\r\n\r\n\r\n" },
        { "\r\n.\n\r\n", "\r\n\r\n\r\n" },
        { "\r\n\r.\r\n", "\r\n\r\n.\r\n" },
        { "\r\n\n.\r\n", "\r\n\r\n.\r\n" },
        { "\r\n.\r\0\n", "\r\n\r\n\0\r\n" },
        { "\n.\r", "\r\n.\r\n" },
        { "\r.\n", "\r\n.\r\n" },
        { "\r\n\t.\r\n", "\r\n\t.\r\n" },
    };

    [Theory]
    [MemberData(nameof(FakeTerminators))]
    public void FakeTerminatorDoesNotEndData(string fake, string expectedMiddle)
    {
        byte[] input = B("A" + fake + "B\r\n.\r\nQUIT\r\n");
        var (output, status, consumed, _) = Run(input);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(B("A" + expectedMiddle + "B\r\n"), output);
        Assert.Equal(input.Length - "QUIT\r\n".Length, consumed);
        AssertNoBareCrLf(output);
    }

    [Theory]
    [MemberData(nameof(FakeTerminators))]
    public void FakeTerminatorAloneNeedsMoreData(string fake, string expectedMiddle)
    {
        byte[] input = B("A" + fake);
        var (_, status, consumed, _) = Run(input);

        Assert.Equal(OperationStatus.NeedMoreData, status);
        Assert.Equal(input.Length, consumed);
        _ = expectedMiddle;
    }

    [Fact]
    public void EmptyMessage()
    {
        var (output, status, consumed, _) = Run(B(".\r\n"));
        Assert.Equal(OperationStatus.Done, status);
        Assert.Empty(output);
        Assert.Equal(3, consumed);
    }

    [Fact]
    public void RealTerminatorAfterContent()
    {
        var (output, status, consumed, d) = Run(B("Subject: x\r\n\r\nbody\r\n.\r\n"));
        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(B("Subject: x\r\n\r\nbody\r\n"), output);
        Assert.Equal(23, consumed);
        Assert.Equal(0, d.Bare.LineFeeds);
        Assert.Equal(0, d.Bare.CarriageReturns);
        Assert.True(d.IsCompleted);
    }

    [Fact]
    public void DotUnstuffingOnlyAfterRealCrLf()
    {
        var (output, status, _, _) = Run(B("..a\r\n...b\r\n.c\nd\n.e\r\n.\r\n"));
        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(B(".a\r\n..b\r\nc\r\nd\r\n.e\r\n"), output);
    }

    [Fact]
    public void BytesAfterTerminatorAreNotConsumed()
    {
        byte[] input = B("x\r\n.\r\nMAIL FROM:<a@b>\r\n");
        var decoder = new DotDecoder();
        var dest = new byte[64];
        var status = decoder.Decode(input, dest, out int consumed, out int written);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(6, consumed);
        Assert.Equal(B("x\r\n"), dest.AsSpan(0, written).ToArray());

        // Further calls do nothing until Reset.
        status = decoder.Decode(input.AsSpan(consumed), dest, out consumed, out written);
        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(0, consumed);
        Assert.Equal(0, written);

        decoder.Reset();
        Assert.False(decoder.IsCompleted);
    }

    [Fact]
    public void CountsBareLineEnds()
    {
        var (output, _, _, d) = Run(B("a\nb\rc\r\n\r\rd\n\n\r\n.\r\n"));
        Assert.Equal(3, d.Bare.LineFeeds);
        Assert.Equal(3, d.Bare.CarriageReturns);
        AssertNoBareCrLf(output);
    }

    [Fact]
    public void PendingCrAtChunkEndIsDecidedByNextChunk()
    {
        var (output, status, _, d) = Run([B("a\r"), B("\n.\r"), B("\n")]);
        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(B("a\r\n"), output);
        Assert.Equal(0, d.Bare.CarriageReturns);

        (output, status, _, d) = Run([B("a\r"), B("b\r\n.\r\n")]);
        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(B("a\r\nb\r\n"), output);
        Assert.Equal(1, d.Bare.CarriageReturns);
    }

    [Fact]
    public void NulBytesPassThrough()
    {
        var (output, status, _, _) = Run(B("\0a\0\r\n\0\r\n.\r\n"));
        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(B("\0a\0\r\n\0\r\n"), output);
    }

    public static TheoryData<string> SplitInputs => new()
    {
        "Hello\r\n..dot\r\n\n.\n\r.\r\r\n.\r\r\n\0.\r\nx\r\n.\r\nTRAILING",
        "\r\n.\n\r\n.\r\n",
        ".\r\n",
        "..\r\n.\r\n",
        "a\r\r\r\n\n\n.\r\n.\r\n",
        "no terminator\r\n.\r",
    };

    [Theory]
    [MemberData(nameof(SplitInputs))]
    public void EverySplitGivesIdenticalResult(string text)
    {
        byte[] input = B(text);
        var reference = Run(input);

        for (int split = 0; split <= input.Length; split++)
        {
            var r = Run([input[..split], input[split..]]);
            Assert.Equal(reference.Output, r.Output);
            Assert.Equal(reference.Status, r.Status);
            Assert.Equal(reference.TotalConsumed, r.TotalConsumed);
        }

        var oneByOne = Run(input.Select(b => new[] { b }));
        Assert.Equal(reference.Output, oneByOne.Output);
        Assert.Equal(reference.Status, oneByOne.Status);
        Assert.Equal(reference.TotalConsumed, oneByOne.TotalConsumed);
        Assert.Equal(reference.Decoder.Bare.LineFeeds, oneByOne.Decoder.Bare.LineFeeds);
        Assert.Equal(reference.Decoder.Bare.CarriageReturns, oneByOne.Decoder.Bare.CarriageReturns);
    }

    [Theory]
    [MemberData(nameof(SplitInputs))]
    public void TinyDestinationsGiveIdenticalResult(string text)
    {
        byte[] input = B(text);
        var reference = Run(input);

        for (int size = 2; size <= 5; size++)
        {
            var r = Run(input, size);
            Assert.Equal(reference.Output, r.Output);
            Assert.Equal(reference.Status, r.Status);
            Assert.Equal(reference.TotalConsumed, r.TotalConsumed);

            var both = Run(input.Select(b => new[] { b }), size);
            Assert.Equal(reference.Output, both.Output);
        }
    }

    [Fact]
    public void DestinationTooSmallDoesNotLoseState()
    {
        var decoder = new DotDecoder();
        Span<byte> dest = stackalloc byte[1];
        var status = decoder.Decode("\n"u8, dest, out int consumed, out int written);
        Assert.Equal(OperationStatus.DestinationTooSmall, status);
        Assert.Equal(0, consumed);
        Assert.Equal(0, written);
        Assert.Equal(0, decoder.Bare.LineFeeds);
    }

    [Fact]
    public void DecodeDoesNotAllocate()
    {
        byte[] input = B("Subject: t\r\n\r\n..x\r\nbare\nlf\rcr\r\n.\r\n");
        byte[] dest = new byte[256];
        var decoder = new DotDecoder();
        Warm(ref decoder, input, dest);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Warm(ref decoder, input, dest);
        }

        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, after - before);

        static void Warm(ref DotDecoder decoder, byte[] input, byte[] dest)
        {
            decoder.Reset();
            var status = decoder.Decode(input, dest, out _, out _);
            if (status != OperationStatus.Done)
            {
                throw new InvalidOperationException();
            }
        }
    }
}
