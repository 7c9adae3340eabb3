namespace AbilisFast.Server.Tests.Spool;

public sealed class SpoolLifecycleTests
{
    [Fact]
    public async Task UncommittedAndAbortedMessagesAreNotRecovered()
    {
        using var dir = new SpoolTestDir();
        uint kept;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(fragmentSize: 1024), out _))
        {
            kept = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(1, 5000));

            SpoolWriter aborted = spool.BeginMessage(spool.NextId());
            aborted.Write(SpoolTestData.Body(2, 5000)); // flushes Data records
            aborted.Abort();
            aborted.Dispose();

            SpoolWriter dangling = spool.BeginMessage(spool.NextId());
            dangling.Write(SpoolTestData.Body(3, 5000)); // never committed
            Assert.Equal(1, spool.LiveMessages);
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(fragmentSize: 1024), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Equal(kept, Assert.Single(recovered).Id);
            Assert.True(spool.NextId() > kept + 2); // ids of dropped messages are not reused
        }
    }

    [Fact]
    public async Task DoneMessagesAreDroppedAndEmptySegmentsDeleted()
    {
        using var dir = new SpoolTestDir();
        var ids = new List<uint>();
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out _))
        {
            for (int i = 0; i < 10; i++)
            {
                ids.Add(await SpoolTestData.StoreAsync(spool, SpoolTestData.Body((uint)i, 20_000)));
            }

            int before = dir.SegmentFiles().Length;
            Assert.True(before >= 4);
            for (int i = 0; i < 9; i++)
            {
                spool.MarkDone(ids[i]);
            }

            Assert.Equal(1, spool.LiveMessages);
            Assert.True(dir.SegmentFiles().Length < before);
            Assert.Throws<InvalidOperationException>(() => spool.OpenBody(ids[0]));
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Equal(ids[9], Assert.Single(recovered).Id);
            Assert.Equal(SpoolTestData.Body(9, 20_000), SpoolTestData.ReadBody(spool, ids[9]));
            spool.MarkDone(ids[9]);
            Assert.Equal(0, spool.LiveMessages);
            Assert.True(dir.SegmentFiles().Length <= 1); // only the active segment may remain
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Empty(recovered);
        }
    }

    [Fact]
    public async Task DoneRecordOutlivesTheSegmentsOfItsMessage()
    {
        using var dir = new SpoolTestDir();
        uint a;
        uint b;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out _))
        {
            a = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(1, 1000));
            b = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(2, 1000)); // keeps segment 1 alive
            uint filler = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(3, 70_000)); // rolls to later segments
            spool.MarkDone(a); // Done(a) lands in a later segment than a's records
            spool.MarkDone(filler);
            uint later = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(4, 70_000));
            await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(5, 100_000)); // moves the active segment on
            spool.MarkDone(later); // now the segment holding Done(a) has nothing live of its own
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.DoesNotContain(recovered, m => m.Id == a);
            Assert.Contains(recovered, m => m.Id == b);
        }
    }

    [Fact]
    public async Task LastRetryPayloadIsReturned()
    {
        using var dir = new SpoolTestDir();
        uint id;
        uint other;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out _))
        {
            id = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(1, 100));
            other = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(2, 100));
            spool.WriteRetry(id, "attempt-1"u8);
            await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(3, 100_000)); // next retry in another segment
            spool.WriteRetry(id, "attempt-2"u8);
            Assert.Throws<InvalidOperationException>(() => spool.WriteRetry(12345, "x"u8));
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Equal("attempt-2"u8.ToArray(), recovered.Single(m => m.Id == id).LastRetry);
            Assert.Null(recovered.Single(m => m.Id == other).LastRetry);
            Assert.Equal(SpoolTestData.Body(1, 100), SpoolTestData.ReadBody(spool, id));
        }
    }

    [Fact]
    public async Task GroupCommitSharesSyncs()
    {
        using var dir = new SpoolTestDir();
        SpoolOptions options = dir.Options(segmentSize: 64L << 20);
        SpoolStore? spool = null;
        int rounds = 0;
        options.BeforeSyncRound = () =>
        {
            // Hold the first round until all 64 commits are queued, so the next round must take them together.
            if (Interlocked.Increment(ref rounds) == 1)
            {
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (spool!.PendingCommits < 64 && DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(1);
                }
            }
        };

        using (spool = SpoolStore.Open(dir.Path, options, out _))
        {
            await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => SpoolTestData.StoreAsync(spool, SpoolTestData.Body((uint)i, 300)))));
            Assert.Equal(64, spool.CommitsCompleted);
            Assert.Equal(64, spool.LiveMessages);
            Assert.True(spool.SyncRounds <= 2, $"rounds {spool.SyncRounds}");
            Assert.True(spool.SyncCalls < spool.CommitsCompleted, $"syncs {spool.SyncCalls}");
        }
    }
}

public sealed class SpoolEdgeCaseTests
{
    [Fact]
    public async Task LargeEnvelopeAndOversizedEnvelope()
    {
        using var dir = new SpoolTestDir();
        byte[] envelope = SpoolTestData.Body(77, 10_000);
        uint id;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out _))
        {
            id = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(1, 20_000), envelope);
            using SpoolWriter writer = spool.BeginMessage(spool.NextId());
            writer.Write("x"u8);
            await Assert.ThrowsAsync<ArgumentException>(async () => await writer.CommitAsync(new byte[70_000]));
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out IReadOnlyList<RecoveredMessage> recovered))
        {
            RecoveredMessage m = Assert.Single(recovered);
            Assert.Equal(envelope, m.Envelope);
            Assert.Equal(SpoolTestData.Body(1, 20_000), SpoolTestData.ReadBody(spool, id));
        }
    }

    [Fact]
    public async Task OpenBodySurvivesMarkDone()
    {
        using var dir = new SpoolTestDir();
        using SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out _);
        byte[] body = SpoolTestData.Body(1, 150_000);
        uint id = await SpoolTestData.StoreAsync(spool, body);
        await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(2, 70_000)); // move the active segment on
        using Stream stream = spool.OpenBody(id);
        spool.MarkDone(id);
        int segmentsWhileReading = spool.SegmentCount;
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(body, copy.ToArray());
        stream.Dispose();
        Assert.True(spool.SegmentCount < segmentsWhileReading);
    }

    [Fact]
    public async Task WritersArePooledAndReusable()
    {
        using var dir = new SpoolTestDir();
        using SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out _);
        SpoolWriter first;
        uint a = spool.NextId();
        using (first = spool.BeginMessage(a))
        {
            first.Write("hello"u8);
            await first.CommitAsync("env"u8);
        }

        uint b = spool.NextId();
        using SpoolWriter second = spool.BeginMessage(b);
        Assert.Same(first, second);
        second.Write("world"u8);
        await second.CommitAsync("env2"u8);
        Assert.Equal("hello"u8.ToArray(), SpoolTestData.ReadBody(spool, a));
        Assert.Equal("world"u8.ToArray(), SpoolTestData.ReadBody(spool, b));
        Assert.Throws<InvalidOperationException>(() => spool.BeginMessage(a));
    }
}
