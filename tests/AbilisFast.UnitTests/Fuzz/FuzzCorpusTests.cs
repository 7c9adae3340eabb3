namespace AbilisFast.Server.Tests.Fuzz;

/// <summary>One harness for the whole class: the IN context and the spool directory are made once.</summary>
public sealed class FuzzTargetsFixture : IDisposable
{
    internal FuzzTargets Targets { get; } = new();

    public void Dispose() => Targets.Dispose();
}

/// <summary>
/// Every seed in tools/AbilisFast.Fuzz/corpus/TARGET and every crash input that tools/fuzz.sh kept
/// in tools/AbilisFast.Fuzz/crashes/TARGET goes through the same entry point afl-fuzz calls; nothing
/// may escape it (an exception from the code under test or a failed harness check).
/// </summary>
public sealed class FuzzCorpusTests(FuzzTargetsFixture fixture) : IClassFixture<FuzzTargetsFixture>
{
    private static string FuzzDir => Path.Combine(ServerProcess.RepositoryRoot(), "tools", "AbilisFast.Fuzz");

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (string kind in new[] { "corpus", "crashes" })
        {
            foreach (string target in FuzzTargets.Names)
            {
                string directory = Path.Combine(FuzzDir, kind, target);
                if (!Directory.Exists(directory))
                {
                    continue;
                }

                foreach (string file in Directory.GetFiles(directory).Order(StringComparer.Ordinal))
                {
                    data.Add(target, Path.GetRelativePath(FuzzDir, file));
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void NothingEscapesTheHarness(string target, string file)
    {
        byte[] input = File.ReadAllBytes(Path.Combine(FuzzDir, file));
        fixture.Targets.Run(target, input);
    }

    [Fact]
    public void EveryTargetHasSeeds()
    {
        foreach (string target in FuzzTargets.Names)
        {
            Assert.True(Directory.GetFiles(Path.Combine(FuzzDir, "corpus", target)).Length >= 2, target);
        }
    }

    [Fact]
    public void TheTransactionSeedQueuesItsMessage()
    {
        using var harness = new InTransactionHarness();
        InOutcome outcome = harness.RunFuzzInput(File.ReadAllBytes(Path.Combine(FuzzDir, "corpus", "in", "transaction")));
        Assert.Contains("250 2.0.0 Ok: queued as ID\r\n", outcome.Replies, StringComparison.Ordinal);
        Assert.EndsWith("221 2.0.0 Bye\r\n", outcome.Replies, StringComparison.Ordinal);
        string message = Assert.Single(outcome.Messages);
        Assert.EndsWith("\r\nSubject: hi\r\n\r\nhello\r\n.leading dot\r\n", message, StringComparison.Ordinal);
        Assert.Contains("Received: from client.test ([127.0.0.1])", message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSpoolSeedsHoldTheMessagesTheWriterWrote()
    {
        using var harness = new SpoolHarness();
        IReadOnlyList<RecoveredCopy> three = harness.Recover(File.ReadAllBytes(Path.Combine(FuzzDir, "corpus", "spool", "three-messages-done-retry")));
        Assert.Equal([100, 0], three.Select(static m => m.Body.Length));
        IReadOnlyList<RecoveredCopy> torn = harness.Recover(File.ReadAllBytes(Path.Combine(FuzzDir, "corpus", "spool", "committed-then-torn")));
        Assert.Equal(300, Assert.Single(torn).Body.Length);
        Assert.Equal(SpoolHarness.CheckEnvelope(torn[0].Body), torn[0].Envelope);
    }

    [Fact]
    public void TheHarnessCatchesAMessageThatWasNotWritten()
    {
        // A correctly sealed commit whose CHECK envelope names other bytes than its Data record
        // holds: what a recovery bug that mixed up fragments would look like to the harness.
        uint seed = SpoolRecord.SeedFor(SpoolHarness.RecordStreamSalt);
        byte[] data = Record(SpoolRecordType.Data, 0, "hello"u8, seed);
        byte[] envelope = SpoolHarness.CheckEnvelope("jello"u8);
        byte[] commitPayload = new byte[SpoolRecord.CommitPrefixSize + envelope.Length];
        BinaryPrimitives.WriteInt64LittleEndian(commitPayload, 5);
        envelope.CopyTo(commitPayload, SpoolRecord.CommitPrefixSize);
        byte[] commit = Record(SpoolRecordType.Commit, 1, commitPayload, seed);
        byte[] segment = [.. RecordStream.SegmentHeader(SpoolHarness.RecordStreamSalt, 1), .. data, .. commit];

        using var harness = new SpoolHarness();
        FuzzInvariantException e = Assert.Throws<FuzzInvariantException>(() => harness.Recover(segment));
        Assert.Contains("is not the one written", e.Message, StringComparison.Ordinal);
    }

    private static byte[] Record(SpoolRecordType type, uint seq, ReadOnlySpan<byte> payload, uint seed)
    {
        byte[] record = new byte[SpoolRecord.SizeOf(payload.Length)];
        payload.CopyTo(record.AsSpan(SpoolRecord.HeaderSize));
        SpoolRecord.Seal(record, type, 1, seq, payload.Length, seed);
        return record;
    }
}
