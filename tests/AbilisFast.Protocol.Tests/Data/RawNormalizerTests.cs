using static AbilisFast.Protocol.Tests.Data.DecodeHelper;

namespace AbilisFast.Protocol.Tests.Data;

public sealed class RawNormalizerTests
{
    private static (byte[] Output, RawNormalizer Normalizer) Run(IEnumerable<byte[]> chunks, int destinationSize = 4096)
    {
        var n = new RawNormalizer();
        var output = new List<byte>();
        var dest = new byte[destinationSize];
        foreach (byte[] chunk in chunks)
        {
            ReadOnlySpan<byte> src = chunk;
            OperationStatus status;
            do
            {
                status = n.Normalize(src, dest, out int consumed, out int written);
                output.AddRange(dest.AsSpan(0, written).ToArray());
                src = src.Slice(consumed);
            }
            while (status == OperationStatus.DestinationTooSmall);

            Assert.Equal(0, src.Length);
        }

        Assert.Equal(OperationStatus.Done, n.Flush(dest, out int flushed));
        output.AddRange(dest.AsSpan(0, flushed).ToArray());
        return (output.ToArray(), n);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("abc", "abc")]
    [InlineData("a\r\nb\r\n", "a\r\nb\r\n")]
    [InlineData("a\nb", "a\r\nb")]
    [InlineData("a\rb", "a\r\nb")]
    [InlineData("a\r", "a\r\n")]
    [InlineData("\r\r\n\n", "\r\n\r\n\r\n")]
    [InlineData(".\r\n..\r\n", ".\r\n..\r\n")]
    [InlineData("\0\r\0", "\0\r\n\0")]
    public void Normalizes(string input, string expected)
    {
        byte[] bytes = B(input);
        var (output, _) = Run([bytes]);
        Assert.Equal(B(expected), output);
        AssertNoBareCrLf(output);

        for (int split = 0; split <= bytes.Length; split++)
        {
            Assert.Equal(B(expected), Run([bytes[..split], bytes[split..]]).Output);
        }

        Assert.Equal(B(expected), Run(bytes.Select(b => new[] { b }), 2).Output);
    }

    [Fact]
    public void CountsBareLineEnds()
    {
        var (_, n) = Run([B("a\r"), B("\nb\rc\n\r")]);
        Assert.Equal(1, n.Bare.LineFeeds);
        Assert.Equal(2, n.Bare.CarriageReturns);
        Assert.False(n.HasPendingCr);
    }
}
