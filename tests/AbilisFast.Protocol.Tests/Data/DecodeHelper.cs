namespace AbilisFast.Protocol.Tests.Data;

internal static class DecodeHelper
{
    /// <summary>Feeds the chunks in order with a destination of the given size; stops at Done.</summary>
    public static (byte[] Output, OperationStatus Status, int TotalConsumed, DotDecoder Decoder) Run(
        IEnumerable<byte[]> chunks, int destinationSize = 4096)
    {
        var decoder = new DotDecoder();
        var output = new List<byte>();
        var dest = new byte[destinationSize];
        int total = 0;
        OperationStatus status = OperationStatus.NeedMoreData;

        foreach (byte[] chunk in chunks)
        {
            ReadOnlySpan<byte> src = chunk;
            while (true)
            {
                status = decoder.Decode(src, dest, out int consumed, out int written);
                output.AddRange(dest.AsSpan(0, written).ToArray());
                src = src.Slice(consumed);
                total += consumed;
                if (status == OperationStatus.DestinationTooSmall)
                {
                    Assert.True(consumed > 0 || written > 0, "no progress");
                    continue;
                }

                break;
            }

            if (status == OperationStatus.Done)
            {
                break;
            }

            Assert.Equal(OperationStatus.NeedMoreData, status);
            Assert.Equal(0, src.Length);
        }

        return (output.ToArray(), status, total, decoder);
    }

    public static (byte[] Output, OperationStatus Status, int TotalConsumed, DotDecoder Decoder) Run(
        byte[] input, int destinationSize = 4096) => Run([input], destinationSize);

    public static byte[] B(string s) => s.Select(c => checked((byte)c)).ToArray();

    public static void AssertNoBareCrLf(ReadOnlySpan<byte> data)
    {
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] == (byte)'\r')
            {
                Assert.True(i + 1 < data.Length && data[i + 1] == (byte)'\n', $"bare CR at {i}");
            }
            else if (data[i] == (byte)'\n')
            {
                Assert.True(i > 0 && data[i - 1] == (byte)'\r', $"bare LF at {i}");
            }
        }
    }
}
