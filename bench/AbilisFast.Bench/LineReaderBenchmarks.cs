using System.Buffers;
using AbilisFast.Protocol.Commands;
using AbilisFast.Protocol.Lines;
using AbilisFast.Testing;
using BenchmarkDotNet.Attributes;

namespace AbilisFast.Bench;

/// <summary>
/// The command line reader (with the verb parse the session does next): whole lines in one segment,
/// lines split across two and across many small segments, malformed endings (bare LF, bare CR),
/// and an oversized line, both refused at the cap and skipped to its LF.
/// </summary>
[MemoryDiagnoser]
public class LineReaderBenchmarks
{
    private static readonly byte[] Commands =
        "MAIL FROM:<sender@client.example> SIZE=1024\r\nRCPT TO:<user@local.example>\r\nDATA\r\n"u8.ToArray();

    private ReadOnlySequence<byte> _whole;
    private ReadOnlySequence<byte> _split;
    private ReadOnlySequence<byte> _fragmented;
    private ReadOnlySequence<byte> _bareLf;
    private ReadOnlySequence<byte> _bareCr;
    private ReadOnlySequence<byte> _oversized;
    private ReadOnlySequence<byte> _oversizedSegments;

    [GlobalSetup]
    public void Setup()
    {
        _whole = new ReadOnlySequence<byte>(Commands);

        // Two segments, the cut inside the first line (a read that ended mid-line).
        _split = Sequences.SplitAt(Commands, 20);

        // Segments of 7 bytes: every line spans several of them (a client that trickles).
        _fragmented = Sequences.Split(Commands, 7);

        _bareLf = new ReadOnlySequence<byte>(
            "MAIL FROM:<sender@client.example> SIZE=1024\nRCPT TO:<user@local.example>\nDATA\n"u8.ToArray());
        _bareCr = new ReadOnlySequence<byte>(
            "MAIL FROM:<sender@client.example>\rSIZE=1024\r\nRCPT TO:<user@local.example>\r \r\nDATA\r\n"u8.ToArray());

        // 4 KiB of text ending in CRLF: over the 512-octet cap, refused then skipped.
        byte[] longLine = new byte[4096];
        longLine.AsSpan().Fill((byte)'x');
        longLine[^2] = (byte)'\r';
        longLine[^1] = (byte)'\n';
        _oversized = new ReadOnlySequence<byte>(longLine);
        _oversizedSegments = Sequences.Split(longLine, 1024);
    }

    [Benchmark(Baseline = true)]
    public int WholeLines() => ReadAll(_whole);

    [Benchmark]
    public int SplitLines() => ReadAll(_split);

    [Benchmark]
    public int FragmentedLines() => ReadAll(_fragmented);

    [Benchmark]
    public int BareLfLines() => ReadAll(_bareLf);

    [Benchmark]
    public int BareCrLines() => ReadAll(_bareCr);

    /// <summary>The cap check alone: the reader looks at 512 octets and says TooLong.</summary>
    [Benchmark]
    public int OversizedLine()
    {
        ReadOnlySequence<byte> buffer = _oversized;
        Span<byte> scratch = stackalloc byte[LineReader.MaxCommandLine];
        return (int)LineReader.TryRead(ref buffer, scratch, LineReader.MaxCommandLine, out _, out _);
    }

    /// <summary>What the session does with a 4 KiB line in 1 KiB segments: TooLong, then discard up to its LF.</summary>
    [Benchmark]
    public int OversizedLineSkipped()
    {
        ReadOnlySequence<byte> buffer = _oversizedSegments;
        Span<byte> scratch = stackalloc byte[LineReader.MaxCommandLine];
        LineStatus status = LineReader.TryRead(ref buffer, scratch, LineReader.MaxCommandLine, out _, out _);
        return LineReader.SkipLine(ref buffer) ? (int)status + (int)buffer.Length : -1;
    }

    private static int ReadAll(ReadOnlySequence<byte> buffer)
    {
        Span<byte> scratch = stackalloc byte[LineReader.MaxCommandLine];
        int verbs = 0;
        while (LineReader.TryRead(ref buffer, scratch, LineReader.MaxCommandLine, out ReadOnlySpan<byte> line, out LineFlags flags) == LineStatus.Line)
        {
            verbs += (int)CommandParser.Parse(line, out _) + (int)flags;
        }

        return verbs;
    }
}
