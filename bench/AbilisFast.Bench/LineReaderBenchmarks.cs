using System.Buffers;
using AbilisFast.Protocol.Commands;
using AbilisFast.Protocol.Lines;
using BenchmarkDotNet.Attributes;

namespace AbilisFast.Bench;

/// <summary>The command line reader and verb dispatch: whole lines, split lines, oversized lines.</summary>
[MemoryDiagnoser]
public class LineReaderBenchmarks
{
    private ReadOnlySequence<byte> _whole;
    private ReadOnlySequence<byte> _split;
    private ReadOnlySequence<byte> _oversized;

    [GlobalSetup]
    public void Setup()
    {
        byte[] lines = "MAIL FROM:<sender@client.example> SIZE=1024\r\nRCPT TO:<user@local.example>\r\nDATA\r\n"u8.ToArray();
        _whole = new ReadOnlySequence<byte>(lines);
        var first = new Segment(lines.AsMemory(0, 20), 0);
        Segment last = first.Append(lines.AsMemory(20));
        _split = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        _oversized = new ReadOnlySequence<byte>(new byte[4096]);
    }

    [Benchmark(Baseline = true)]
    public int WholeLines() => ReadAll(_whole);

    [Benchmark]
    public int SplitLines() => ReadAll(_split);

    [Benchmark]
    public int OversizedLine()
    {
        ReadOnlySequence<byte> buffer = _oversized;
        Span<byte> scratch = stackalloc byte[LineReader.MaxCommandLine];
        return (int)LineReader.TryRead(ref buffer, scratch, LineReader.MaxCommandLine, out _, out _);
    }

    private static int ReadAll(ReadOnlySequence<byte> buffer)
    {
        Span<byte> scratch = stackalloc byte[LineReader.MaxCommandLine];
        int verbs = 0;
        while (LineReader.TryRead(ref buffer, scratch, LineReader.MaxCommandLine, out ReadOnlySpan<byte> line, out _) == LineStatus.Line)
        {
            verbs += (int)CommandParser.Parse(line, out _);
        }

        return verbs;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
