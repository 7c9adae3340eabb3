using static AbilisFast.Protocol.Tests.Data.DecodeHelper;

namespace AbilisFast.Protocol.Tests.Data;

public sealed class DotStufferTests
{
    private static byte[] Encode(IEnumerable<byte[]> chunks, int destinationSize = 4096)
    {
        var e = new DotStuffEncoder();
        var output = new List<byte>();
        var dest = new byte[Math.Max(destinationSize, DotStuffer.MaxFinishLength)];
        Span<byte> window = dest.AsSpan(0, destinationSize);
        foreach (byte[] chunk in chunks)
        {
            ReadOnlySpan<byte> src = chunk;
            OperationStatus status;
            do
            {
                status = e.Encode(src, window, out int consumed, out int written);
                output.AddRange(window[..written].ToArray());
                src = src.Slice(consumed);
            }
            while (status == OperationStatus.DestinationTooSmall);
        }

        Assert.Equal(OperationStatus.Done, e.Finish(dest, out int tail));
        output.AddRange(dest.AsSpan(0, tail).ToArray());
        return output.ToArray();
    }

    [Theory]
    [InlineData("", ".\r\n")]
    [InlineData("a\r\n", "a\r\n.\r\n")]
    [InlineData("a", "a\r\n.\r\n")]
    [InlineData(".\r\n", "..\r\n.\r\n")]
    [InlineData(".a\r\n..b\r\nc.\r\n", "..a\r\n...b\r\nc.\r\n.\r\n")]
    [InlineData("x\r\n.", "x\r\n..\r\n.\r\n")]
    [InlineData("\r\n.\r\n", "\r\n..\r\n.\r\n")]
    public void StuffsAndTerminates(string body, string expected)
    {
        byte[] bytes = B(body);
        Assert.Equal(B(expected), Encode([bytes]));
        for (int split = 0; split <= bytes.Length; split++)
        {
            Assert.Equal(B(expected), Encode([bytes[..split], bytes[split..]]));
        }

        Assert.Equal(B(expected), Encode(bytes.Select(b => new[] { b }), 2));
    }

    [Fact]
    public void RoundTripRandomBodies()
    {
        var random = new Random(12345);
        byte[] alphabet = B("..\r\nab \0\t.");
        for (int iteration = 0; iteration < 500; iteration++)
        {
            byte[] body = RandomCrLfBody(random, alphabet);
            bool endsWithCrLf = body.Length == 0 || body.AsSpan().EndsWith("\r\n"u8);
            byte[] expected = endsWithCrLf ? body : [.. body, (byte)'\r', (byte)'\n'];

            int chunkSize = random.Next(1, 17);
            byte[] encoded = Encode(body.Chunk(chunkSize), random.Next(2, 9));
            var decoded = Run(encoded.Chunk(random.Next(1, 17)), random.Next(2, 9));

            Assert.Equal(OperationStatus.Done, decoded.Status);
            Assert.Equal(encoded.Length, decoded.TotalConsumed);
            Assert.Equal(expected, decoded.Output);
        }
    }

    // Random body made of alphabet bytes where every CR/LF is part of a CRLF pair.
    private static byte[] RandomCrLfBody(Random random, byte[] alphabet)
    {
        int length = random.Next(0, 80);
        var body = new List<byte>(length + 2);
        while (body.Count < length)
        {
            byte b = alphabet[random.Next(alphabet.Length)];
            if (b is (byte)'\r' or (byte)'\n')
            {
                body.Add((byte)'\r');
                body.Add((byte)'\n');
            }
            else
            {
                body.Add(b);
            }
        }

        return body.ToArray();
    }
}
