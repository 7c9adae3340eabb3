using AbilisFast.Protocol.Addressing;
using AbilisFast.Server.Recipients;

namespace AbilisFast.Server.Tests.Fuzz;

/// <summary>One harness for the whole class: the IN context and the spool directory are made once.</summary>
public sealed class FuzzTargetsFixture : IDisposable
{
    internal FuzzTargets Targets { get; } = new();

    public void Dispose() => Targets.Dispose();
}

/// <summary>
/// Every seed in tools/AbilisFast.Fuzz/seeds/TARGET, every file of the minimised corpus in
/// tools/AbilisFast.Fuzz/corpus/TARGET and every crash input that tools/fuzz.sh kept in
/// tools/AbilisFast.Fuzz/crashes/TARGET goes through the same entry point afl-fuzz calls; nothing
/// may escape it (an exception from the code under test or a failed harness check).
/// </summary>
public sealed class FuzzCorpusTests(FuzzTargetsFixture fixture) : IClassFixture<FuzzTargetsFixture>
{
    private static string FuzzDir => Path.Combine(ServerProcess.RepositoryRoot(), "tools", "AbilisFast.Fuzz");

    /// <summary>The bytes of one seed of the IN-session target (tools/AbilisFast.Fuzz/seeds/in/<paramref name="name"/>).</summary>
    private static byte[] InSeed(string name) => File.ReadAllBytes(Path.Combine(FuzzDir, "seeds", "in", name));

    /// <summary>What the IN-session target makes of seed <paramref name="name"/>, on a harness of its own.</summary>
    private static InOutcome RunIn(string name)
    {
        using var harness = new InTransactionHarness();
        return harness.RunFuzzInput(InSeed(name));
    }

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (string kind in new[] { "seeds", "corpus", "crashes" })
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
            Assert.True(Directory.GetFiles(Path.Combine(FuzzDir, "seeds", target)).Length >= 2, target);
        }
    }

    [Fact]
    public void TheTransactionSeedQueuesItsMessage()
    {
        InOutcome outcome = RunIn("transaction");
        Assert.Contains("250 2.0.0 Ok: queued as ID\r\n", outcome.Replies, StringComparison.Ordinal);
        Assert.EndsWith("221 2.0.0 Bye\r\n", outcome.Replies, StringComparison.Ordinal);
        string message = Assert.Single(outcome.Messages);
        Assert.EndsWith("\r\nSubject: hi\r\n\r\nhello\r\n.leading dot\r\n", message, StringComparison.Ordinal);
        Assert.Contains("Received: from client.test ([127.0.0.1])", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("real-swaks", 1)]
    [InlineData("real-swaks-auth-plain", 1)]
    [InlineData("real-swaks-auth-wrong", 0)]
    [InlineData("real-smtplib-bdat", 1)]
    [InlineData("real-smtplib-dsn-utf8", 2)]
    [InlineData("real-smtp-source-3", 3)]
    [InlineData("real-msmtp-auth-dsn", 1)]
    [InlineData("real-s-nail", 1)]
    public void TheRecordedClientsQueueWhatTheySent(string seed, int messages)
    {
        InOutcome outcome = RunIn(seed);
        Assert.Equal(messages, outcome.Messages.Count);
        Assert.EndsWith("221 2.0.0 Bye\r\n", outcome.Replies, StringComparison.Ordinal);
    }

    [Fact]
    public void TheAuthSeedsAuthenticateAndAWrongPasswordDoesNot()
    {
        InOutcome login = RunIn("auth-login");
        Assert.Contains("235 2.7.0 Authentication successful\r\n", login.Replies, StringComparison.Ordinal);
        InOutcome wrong = RunIn("real-swaks-auth-wrong");
        Assert.Contains("535 5.7.8", wrong.Replies, StringComparison.Ordinal);
        Assert.DoesNotContain("235 ", wrong.Replies, StringComparison.Ordinal);
    }

    [Fact]
    public void AfterTheInMemoryHandshakeTheSessionIsUnderTls()
    {
        InOutcome tls = RunIn("starttls-auth");
        Assert.Contains("220 2.0.0 Ready to start TLS\r\n", tls.Replies, StringComparison.Ordinal);
        Assert.Contains("503 5.5.1 Error: TLS already active\r\n", tls.Replies, StringComparison.Ordinal);
        Assert.Single(tls.Messages);

        // Pipelined after STARTTLS and before the client's handshake: thrown away with the
        // plaintext, never answered; with no handshake at all, the session ends after the 220.
        InOutcome pipelined = RunIn("starttls-pipelined");
        Assert.EndsWith("220 2.0.0 Ready to start TLS\r\n", pipelined.Replies, StringComparison.Ordinal);
        InOutcome injected = RunIn("starttls-injected");
        string afterTls = injected.Replies[(injected.Replies.IndexOf("220 2.0.0 Ready to start TLS\r\n", StringComparison.Ordinal) + 30)..];
        Assert.StartsWith("250 2.1.0 Ok\r\n250-mx.fuzz.test\r\n", afterTls, StringComparison.Ordinal); // the MAIL sent over TLS, then EHLO
        Assert.DoesNotContain("250 2.1.5", injected.Replies, StringComparison.Ordinal); // the injected RCPT
        Assert.Equal(1, injected.Replies.Split("250 2.1.0 Ok").Length - 1);

        InOutcome failed = RunIn("starttls-fails");
        Assert.EndsWith("220 2.0.0 Ready to start TLS\r\n", failed.Replies, StringComparison.Ordinal);
    }

    /// <summary>
    /// The path target's first finding (crashes/path/d78ff10d304cc9d8): a source route with UTF-8 in
    /// it is dropped, yet the path still needs SMTPUTF8, so the non-ASCII flag stays set although the
    /// mailbox left is ASCII. The parser was right; the harness's check now says so.
    /// </summary>
    [Fact]
    public void AUtf8SourceRouteIsDroppedAndStillCountsAsNonAscii()
    {
        byte[] input = File.ReadAllBytes(Path.Combine(FuzzDir, "crashes", "path", "d78ff10d304cc9d8"));
        ReadOnlySpan<byte> argument = input.AsSpan(1);
        Assert.Equal(PathStatus.Ok, PathParser.TryParse(argument, PathKind.Forward, out ParsedPath path));
        Assert.True(path.HadSourceRoute);
        Assert.True(path.HasNonAscii);
        Assert.Equal("u@l.test", System.Text.Encoding.Latin1.GetString(path.Mailbox(argument)));
        fixture.Targets.Run("path", input);
    }

    [Fact]
    public void TheConsoleHarnessRunsCommandsWithTheRightsOfItsFirstByte()
    {
        using var harness = new ConsoleHarness();
        IReadOnlyList<string> admin = harness.Run([2, 0, .. "s p smtp DT:60\r\nd p smtp\r\n"u8]);
        Assert.Contains("DT:60 set", admin[0], StringComparison.Ordinal);
        Assert.Contains("DT:60", admin[1], StringComparison.Ordinal);
        IReadOnlyList<string> user = harness.Run([1, 0, .. "s p smtp DT:60\r\nd p smtp\r\n"u8]);
        Assert.StartsWith("ERROR: this command needs administrator", user[0], StringComparison.Ordinal);
        Assert.Contains("DT:120", user[1], StringComparison.Ordinal); // the first run's change did not stay
    }

    /// <summary>The aliases seeds are what they say (after the settings byte): Debian's file reads, the refused kinds are refused.</summary>
    [Theory]
    [InlineData("debian", null)]
    [InlineData("continuation", null)]
    [InlineData("catch-all", null)]
    [InlineData("pipe", "aliases:1: 'support': program targets (|command) are refused")]
    [InlineData("include", "aliases:1: 'staff': :include: targets are refused")]
    [InlineData("file", "aliases:1: 'archive': file targets (/path) are refused")]
    [InlineData("continuation-first", "aliases:1: a continuation line (it starts with white space) with no alias before it")]
    public void TheAliasesSeedsReadOrAreRefusedAsTheirNamesSay(string seed, string? error)
    {
        byte[] input = File.ReadAllBytes(Path.Combine(FuzzDir, "seeds", "aliases", seed));
        string[] lines = ConfigHarness.Lines(System.Text.Encoding.UTF8.GetString(input.AsSpan(1)));
        if (error is null)
        {
            Assert.NotEmpty(AliasFile.Parse("aliases", lines).Entries);
        }
        else
        {
            Assert.StartsWith(error, Assert.Throws<AliasFileException>(() => AliasFile.Parse("aliases", lines)).Message, StringComparison.Ordinal);
        }

        fixture.Targets.Run("aliases", input);
    }

    [Fact]
    public void TheSpoolSeedsHoldTheMessagesTheWriterWrote()
    {
        using var harness = new SpoolHarness();
        IReadOnlyList<RecoveredCopy> three = harness.Recover(File.ReadAllBytes(Path.Combine(FuzzDir, "seeds", "spool", "three-messages-done-retry")));
        Assert.Equal([100, 0], three.Select(static m => m.Body.Length));
        IReadOnlyList<RecoveredCopy> torn = harness.Recover(File.ReadAllBytes(Path.Combine(FuzzDir, "seeds", "spool", "committed-then-torn")));
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
