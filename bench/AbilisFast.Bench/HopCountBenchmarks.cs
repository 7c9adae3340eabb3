using System.Buffers;
using System.Text;
using AbilisFast.Protocol.Data;
using BenchmarkDotNet.Attributes;

namespace AbilisFast.Bench;

/// <summary>
/// What counting Received: fields (HOP-LIMIT) adds to the DATA path: <see cref="DotDecoder"/> over
/// the wire text in 4 KiB blocks, as the session decodes it, without and with
/// <see cref="ReceivedCounter"/> fed each decoded piece, as <c>InSession.Append</c> does. The message
/// has a relayed message's header section (ten folded Received: fields, DKIM-like long fields,
/// about 3 KiB) and a body of <see cref="BodyBytes"/>.
/// </summary>
[MemoryDiagnoser]
public class HopCountBenchmarks
{
    private const int BlockSize = 4096;

    private byte[] _wire = [];

    [Params(4 * 1024, 64 * 1024)]
    public int BodyBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var headers = new StringBuilder();
        for (int i = 0; i < 10; i++)
        {
            headers.Append($"Received: from relay{i}.example.net (relay{i}.example.net [192.0.2.{i + 1}])\r\n\tby relay{i + 1}.example.net (Postfix) with ESMTPS id 4XyZ{i:D4}\r\n\tfor <user@local.test>; Sat, 28 Nov 2026 19:16:{i:D2} +0000\r\n");
        }

        headers.Append("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=client.example; s=sel;\r\n\th=from:to:subject:date:message-id; bh=" + new string('b', 44) + ";\r\n\tb=" + new string('s', 340) + "\r\n");
        byte[] raw = MessageText.Raw(BodyBytes);
        _wire = MessageText.Wire([.. Encoding.ASCII.GetBytes(headers.ToString()), .. raw]);
        if (DecodeAndCount() != 11)
        {
            throw new InvalidOperationException("the counter did not find the eleven Received: fields");
        }
    }

    [Benchmark(Baseline = true)]
    public long Decode() => Run(count: false);

    /// <summary>Returns the Received: fields counted.</summary>
    [Benchmark]
    public long DecodeAndCount() => Run(count: true);

    private long Run(bool count)
    {
        Span<byte> decoded = stackalloc byte[BlockSize];
        var decoder = default(DotDecoder);
        var hops = default(ReceivedCounter);
        long total = 0;
        for (int offset = 0; offset < _wire.Length && !decoder.IsCompleted; offset += BlockSize)
        {
            ReadOnlySpan<byte> source = _wire.AsSpan(offset, Math.Min(BlockSize, _wire.Length - offset));
            while (true)
            {
                OperationStatus status = decoder.Decode(source, decoded, out int consumed, out int written);
                source = source[consumed..];
                total += written;
                if (count && !hops.HeaderEnded)
                {
                    hops.Feed(decoded[..written]);
                }

                if (status != OperationStatus.DestinationTooSmall)
                {
                    break;
                }
            }
        }

        return count ? hops.Count : total;
    }
}
