using System.Buffers;
using AbilisFast.Protocol.Data;
using BenchmarkDotNet.Attributes;

namespace AbilisFast.Bench;

/// <summary>
/// The DATA text paths on their own. IN: <see cref="DotDecoder"/> over the dot-stuffed wire text in
/// 4 KiB pipe blocks into a 4 KiB stack buffer, as the session decodes it. OUT: the stored body read
/// in 32 KiB chunks through <see cref="RawNormalizer"/>, <see cref="LineFolder"/> and
/// <see cref="DotStuffEncoder"/>, then the end-of-data marker, as the delivery client sends it;
/// <see cref="EncodeOutWithoutFolding"/> is the same chain without the folder, for its cost.
/// </summary>
[MemoryDiagnoser]
public class DataCodecBenchmarks
{
    private const int BlockSize = 4096;
    private const int ReadChunk = 32 * 1024;

    private byte[] _raw = [];
    private byte[] _wire = [];
    private byte[] _normalized = [];
    private byte[] _folded = [];
    private byte[] _output = [];

    [Params(1024, 64 * 1024, 1024 * 1024)]
    public int BodyBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _raw = MessageText.Raw(BodyBytes);
        _wire = MessageText.Wire(_raw);
        _normalized = new byte[(2 * ReadChunk) + 2];
        _folded = new byte[LineFolder.GetMaxFoldedLength(_normalized.Length)];
        _output = new byte[(2 * _folded.Length) + DotStuffer.MaxFinishLength];

        // Both directions must give back exactly what they were given (no line of the text is over 998 octets).
        if (DecodeIn() != _raw.Length || EncodeOut() != _wire.Length || EncodeOutWithoutFolding() != _wire.Length)
        {
            throw new InvalidOperationException("the codecs do not round-trip the benchmark text");
        }
    }

    /// <summary>Returns the decoded length (the body without the terminator).</summary>
    [Benchmark]
    public long DecodeIn()
    {
        Span<byte> decoded = stackalloc byte[BlockSize];
        var decoder = default(DotDecoder);
        long total = 0;
        for (int offset = 0; offset < _wire.Length && !decoder.IsCompleted; offset += BlockSize)
        {
            ReadOnlySpan<byte> source = _wire.AsSpan(offset, Math.Min(BlockSize, _wire.Length - offset));
            while (true)
            {
                OperationStatus status = decoder.Decode(source, decoded, out int consumed, out int written);
                source = source[consumed..];
                total += written;
                if (status != OperationStatus.DestinationTooSmall)
                {
                    break;
                }
            }
        }

        return total;
    }

    /// <summary>Returns the length sent on the wire (folded, dot-stuffed text and terminator).</summary>
    [Benchmark]
    public long EncodeOut()
    {
        var lineEnds = default(RawNormalizer);
        var folder = default(LineFolder);
        var dots = default(DotStuffEncoder);
        long total = 0;
        int written;
        for (int offset = 0; offset < _raw.Length; offset += ReadChunk)
        {
            ReadOnlySpan<byte> input = _raw.AsSpan(offset, Math.Min(ReadChunk, _raw.Length - offset));
            lineEnds.Normalize(input, _normalized, out _, out int clean);
            dots.Encode(folder.Fold(_normalized.AsSpan(0, clean), _folded), _output, out _, out written);
            total += written;
        }

        lineEnds.Flush(_normalized, out int tail);
        dots.Encode(folder.Fold(_normalized.AsSpan(0, tail), _folded), _output, out _, out written);
        dots.Finish(_output.AsSpan(written), out int end);
        return total + written + end;
    }

    /// <summary>The chain as it was before lines were folded: normalise and dot-stuff only.</summary>
    [Benchmark]
    public long EncodeOutWithoutFolding()
    {
        var lineEnds = default(RawNormalizer);
        var dots = default(DotStuffEncoder);
        long total = 0;
        int written;
        for (int offset = 0; offset < _raw.Length; offset += ReadChunk)
        {
            ReadOnlySpan<byte> input = _raw.AsSpan(offset, Math.Min(ReadChunk, _raw.Length - offset));
            lineEnds.Normalize(input, _normalized, out _, out int clean);
            dots.Encode(_normalized.AsSpan(0, clean), _output, out _, out written);
            total += written;
        }

        lineEnds.Flush(_normalized, out int tail);
        dots.Encode(_normalized.AsSpan(0, tail), _output, out _, out written);
        dots.Finish(_output.AsSpan(written), out int end);
        return total + written + end;
    }
}
