using CsCheck;

namespace AbilisFast.Protocol.Tests.Data;

/// <summary>
/// Property tests (CsCheck) of the DATA transparency codecs as the relay chains them: whatever text
/// comes in is normalised (<see cref="RawNormalizer"/>), dot-stuffed for the next hop
/// (<see cref="DotStuffEncoder"/>) and read back by the receiving side (<see cref="DotDecoder"/>),
/// each fed in random chunks with random destination sizes.
/// </summary>
public sealed class DotStuffingProperties
{
    private const long Iterations = 2000;

    /// <summary>Text rich in the bytes that matter here: dots, CR, LF, NUL, next to anything else.</summary>
    private static readonly Gen<byte[]> Text =
        Gen.Frequency((3, Gen.OneOf((byte)'.', (byte)'\r', (byte)'\n')), (1, Gen.OneOf((byte)'a', (byte)0)), (1, Gen.Byte)).Array[0, 120];

    /// <summary>Chunk sizes for feeding a codec: mostly tiny, so every boundary gets hit.</summary>
    private static readonly Gen<int[]> Chunks = Gen.Int[1, 9].Array[1, 6];

    private static readonly Gen<int> DestinationSize = Gen.Int[2, 12];

    [Fact]
    public void StuffThenUnstuffGivesBackTheNormalisedText() =>
        Gen.Select(Text, Chunks, Chunks, DestinationSize).Sample((text, split1, split2, destination) =>
        {
            byte[] normalised = Normalise(text, split1, destination);
            DecodeHelper.AssertNoBareCrLf(normalised);
            byte[] wire = Stuff(normalised, split2, destination);
            AssertOneTerminatorAtTheEnd(wire);

            (byte[] decoded, int consumed) = Unstuff(wire, split1, destination);
            Assert.Equal(wire.Length, consumed);
            Assert.Equal(Expected(normalised), decoded);
        }, iter: Iterations, threads: 1);

    [Fact]
    public void StuffingTextThatWasNeverNormalisedStillCannotEndTheDataEarly() =>
        // The encoder assumes normalised text (stored bodies always are); fed raw bytes (bare CR, bare
        // LF) it must still never produce an early CRLF.CRLF, and the decoder gives the normalised
        // text back, at most with one more CRLF (a trailing bare CR is a line end only once normalised).
        Gen.Select(Text, Chunks, DestinationSize).Sample((text, split, destination) =>
        {
            byte[] wire = Stuff(text, split, destination);
            AssertOneTerminatorAtTheEnd(wire);
            (byte[] decoded, int consumed) = Unstuff(wire, split, destination);
            Assert.Equal(wire.Length, consumed);
            byte[] normalised = Normalise(text, [text.Length + 1], 16);
            Assert.True(
                decoded.AsSpan().SequenceEqual(Expected(normalised)) || decoded.AsSpan().SequenceEqual([.. normalised, (byte)'\r', (byte)'\n']),
                $"decoded {Convert.ToHexString(decoded)}, normalised {Convert.ToHexString(normalised)}");
        }, iter: Iterations, threads: 1);

    /// <summary>What the receiving side stores: the text, plus the CRLF that the terminator needs when the text does not end in one.</summary>
    private static byte[] Expected(byte[] normalised) =>
        normalised.Length == 0 || normalised.AsSpan().EndsWith("\r\n"u8) ? normalised : [.. normalised, (byte)'\r', (byte)'\n'];

    /// <summary>The only end of data is the last line: no CRLF.CRLF before it, and no "." line at the start of a non-empty body.</summary>
    private static void AssertOneTerminatorAtTheEnd(byte[] wire)
    {
        Assert.True(wire.AsSpan().EndsWith(".\r\n"u8));
        int early = wire.AsSpan().IndexOf("\r\n.\r\n"u8);
        Assert.True(early < 0 || early == wire.Length - 5, $"CRLF.CRLF at {early} of {wire.Length}");
        Assert.True(!wire.AsSpan().StartsWith(".\r\n"u8) || wire.Length == 3, "a body that starts with the terminator");
    }

    private static byte[] Normalise(byte[] text, int[] split, int destinationSize)
    {
        var normalizer = new RawNormalizer();
        var output = new List<byte>();
        byte[] destination = new byte[destinationSize];
        foreach (ReadOnlyMemory<byte> chunk in Cut(text, split))
        {
            ReadOnlySpan<byte> source = chunk.Span;
            while (true)
            {
                OperationStatus status = normalizer.Normalize(source, destination, out int consumed, out int written);
                output.AddRange(destination.AsSpan(0, written));
                source = source[consumed..];
                if (status == OperationStatus.Done)
                {
                    break;
                }

                Assert.Equal(OperationStatus.DestinationTooSmall, status);
                Assert.True(consumed > 0 || written > 0, "no progress");
            }
        }

        Assert.Equal(OperationStatus.Done, normalizer.Flush(destination, out int last));
        output.AddRange(destination.AsSpan(0, last));
        return [.. output];
    }

    private static byte[] Stuff(byte[] text, int[] split, int destinationSize)
    {
        var encoder = new DotStuffEncoder();
        var output = new List<byte>();
        byte[] destination = new byte[Math.Max(destinationSize, DotStuffer.MaxFinishLength)];
        foreach (ReadOnlyMemory<byte> chunk in Cut(text, split))
        {
            ReadOnlySpan<byte> source = chunk.Span;
            while (true)
            {
                OperationStatus status = encoder.Encode(source, destination.AsSpan(0, destinationSize), out int consumed, out int written);
                output.AddRange(destination.AsSpan(0, written));
                source = source[consumed..];
                if (status == OperationStatus.Done)
                {
                    break;
                }

                Assert.True(consumed > 0 || written > 0, "no progress");
            }
        }

        Assert.Equal(OperationStatus.Done, encoder.Finish(destination, out int tail));
        output.AddRange(destination.AsSpan(0, tail));
        return [.. output];
    }

    private static (byte[] Decoded, int Consumed) Unstuff(byte[] wire, int[] split, int destinationSize)
    {
        var decoder = new DotDecoder();
        var output = new List<byte>();
        byte[] destination = new byte[destinationSize];
        int total = 0;
        foreach (ReadOnlyMemory<byte> chunk in Cut(wire, split))
        {
            ReadOnlySpan<byte> source = chunk.Span;
            OperationStatus status;
            while (true)
            {
                status = decoder.Decode(source, destination, out int consumed, out int written);
                output.AddRange(destination.AsSpan(0, written));
                source = source[consumed..];
                total += consumed;
                if (status != OperationStatus.DestinationTooSmall)
                {
                    break;
                }

                Assert.True(consumed > 0 || written > 0, "no progress");
            }

            if (status == OperationStatus.Done)
            {
                break;
            }
        }

        Assert.True(decoder.IsCompleted, "the decoder did not see the terminator");
        return ([.. output], total);
    }

    /// <summary><paramref name="data"/> in chunks of the given sizes, cycled.</summary>
    private static IEnumerable<ReadOnlyMemory<byte>> Cut(byte[] data, int[] sizes)
    {
        int position = 0;
        for (int i = 0; position < data.Length; i++)
        {
            int size = Math.Min(sizes[i % sizes.Length], data.Length - position);
            yield return data.AsMemory(position, size);
            position += size;
        }
    }
}
