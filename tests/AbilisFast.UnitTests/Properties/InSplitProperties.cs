using CsCheck;

namespace AbilisFast.Server.Tests.Properties;

/// <summary>
/// Property (CsCheck): how the client's bytes are cut into reads never changes what the IN session
/// answers or stores. The same stream goes through a real session three times: as one segment, as
/// a multi-segment <see cref="ReadOnlySequence{T}"/> cut at random lengths (all of it in one read),
/// and written into a real pipe in random chunks while the session reads; replies and queued
/// messages (envelope and body) must be identical.
/// </summary>
public sealed class InSplitProperties : IDisposable
{
    private const long Iterations = 120;

    private static readonly Gen<string> Body =
        Gen.Frequency((4, Gen.Char['a', 'z']), (2, Gen.OneOf('.', '\r', '\n')), (1, Gen.OneOf(' ', '\0', '\u00e9'))).Array[0, 150]
            .Select(static chars => new string(chars));

    private static readonly Gen<string> Recipient = Gen.OneOf("<b@local.test>", "<c@local.test>", "<postmaster>", "<x@remote.test>", "<b@local.test> NOTIFY=SUCCESS");

    /// <summary>One transaction: MAIL, one to three RCPTs, then DATA with a dot-terminated text or BDAT chunks, sometimes RSET or a bad line between.</summary>
    private static readonly Gen<string> Transaction =
        Gen.Select(Recipient.Array[1, 3], Body, Gen.Bool, Gen.Int[0, 3]).Select(static (recipients, body, bdat, extra) =>
        {
            var text = new StringBuilder("MAIL FROM:<a@client.test> SIZE=500\r\n");
            foreach (string recipient in recipients)
            {
                text.Append("RCPT TO:").Append(recipient).Append("\r\n");
            }

            text.Append(extra switch { 1 => "NOOP\r\n", 2 => "FOO bar\r\n", _ => string.Empty });
            if (bdat)
            {
                int half = body.Length / 2;
                text.Append($"BDAT {Encoding.UTF8.GetByteCount(body[..half])}\r\n").Append(body[..half])
                    .Append($"BDAT {Encoding.UTF8.GetByteCount(body[half..])} LAST\r\n").Append(body[half..]);
            }
            else
            {
                text.Append("DATA\r\n").Append(body).Append("\r\n.\r\n");
            }

            return text.Append(extra == 3 ? "RSET\r\n" : string.Empty).ToString();
        });

    private static readonly Gen<byte[]> Stream = Gen.OneOf(
        Gen.Select(Gen.OneOf("EHLO client.test\r\n", "HELO client.test\r\n", string.Empty), Transaction.Array[1, 3], Gen.Bool)
            .Select(static (hello, transactions, quit) => Encoding.UTF8.GetBytes(hello + string.Concat(transactions) + (quit ? "QUIT\r\n" : string.Empty))),
        Gen.OneOf([.. SeedCorpus.InTransactions.Select(static t => Encoding.UTF8.GetBytes(t.Text))]));

    private static readonly Gen<int[]> Cuts = Gen.Int[1, 40].Array[1, 8];

    private readonly InTransactionHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public void AnySplitGivesTheSameRepliesAndMessages()
    {
        int messages = 0;
        Gen.Select(Stream, Cuts, Cuts).Sample((stream, cuts, chunks) =>
        {
            InOutcome whole = _harness.Run(new ReadOnlySequence<byte>(stream));
            InOutcome segmented = _harness.Run(Sequences.Cut(stream, Cycle(cuts, stream.Length)));
            InOutcome piped = _harness.RunChunked(stream, chunks);

            Assert.Equal(whole.Replies, segmented.Replies);
            Assert.Equal(whole.Messages, segmented.Messages);
            Assert.Equal(whole.Replies, piped.Replies);
            Assert.Equal(whole.Messages, piped.Messages);
            messages += whole.Messages.Count;
        }, iter: Iterations, threads: 1);

        Assert.True(messages > Iterations / 2, $"only {messages} messages stored over {Iterations} streams: the generator does not reach the spool");
    }

    [Fact]
    public void OneByteSegmentsGiveTheSameResultForEverySeed()
    {
        foreach ((string name, _, string text) in SeedCorpus.InTransactions)
        {
            byte[] stream = Encoding.UTF8.GetBytes(text);
            InOutcome whole = _harness.Run(new ReadOnlySequence<byte>(stream));
            InOutcome bytes = _harness.Run(Sequences.Split(stream, 1));
            Assert.True(whole.Replies == bytes.Replies, name + ": " + bytes.Replies);
            Assert.Equal(whole.Messages, bytes.Messages);
        }
    }

    /// <summary>The cut lengths repeated until they cover <paramref name="total"/> bytes.</summary>
    private static IEnumerable<int> Cycle(int[] lengths, int total)
    {
        for (int i = 0, covered = 0; covered < total; i++)
        {
            int length = lengths[i % lengths.Length];
            covered += length;
            yield return length;
        }
    }
}
