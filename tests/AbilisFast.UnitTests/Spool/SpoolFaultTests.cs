namespace AbilisFast.Server.Tests.Spool;

public sealed class SpoolFaultTests
{
    [Fact]
    public async Task FailedWriteLeavesNoPartialMessage()
    {
        using var dir = new SpoolTestDir();
        bool fail = false;
        SpoolOptions Options()
        {
            SpoolOptions o = dir.Options(fragmentSize: 1024);
            o.WriteFault = n => fail ? n / 2 : -1;
            return o;
        }

        uint a;
        uint d;
        uint b;
        uint c;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, Options(), out _))
        {
            a = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(1, 3000));
            fail = true;

            b = spool.NextId();
            using (SpoolWriter writer = spool.BeginMessage(b))
            {
                Assert.Throws<IOException>(() => writer.Write(SpoolTestData.Body(2, 5000)));
                await Assert.ThrowsAsync<InvalidOperationException>(async () => await writer.CommitAsync("env"u8.ToArray()));
            }

            c = spool.NextId();
            using (SpoolWriter writer = spool.BeginMessage(c))
            {
                writer.Write(SpoolTestData.Body(3, 100));
                await Assert.ThrowsAsync<IOException>(async () => await writer.CommitAsync("env"u8.ToArray()));
            }

            fail = false;
            d = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(4, 3000));
            Assert.False(spool.Contains(b));
            Assert.False(spool.Contains(c));
            Assert.Equal(2, spool.LiveMessages);
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, Options(), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Equal([a, d], recovered.Select(m => m.Id));
            Assert.Equal(SpoolTestData.Body(1, 3000), SpoolTestData.ReadBody(spool, a));
            Assert.Equal(SpoolTestData.Body(4, 3000), SpoolTestData.ReadBody(spool, d));
        }

        Assert.False(Directory.Exists(dir.CorruptDir));
    }

    [Fact]
    public async Task LowDiskRefusesNewSegmentsButPreallocatedSpaceStillWorks()
    {
        using var dir = new SpoolTestDir();
        long free = long.MaxValue;
        SpoolOptions options = dir.Options();
        options.FreeSpaceOverride = () => free;
        uint a;
        uint b;
        uint d;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, options, out _))
        {
            a = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(1, 1000));
            free = 0;
            Assert.Equal(0, spool.AvailableBytes);
            b = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(2, 1000)); // fits in the current segment

            using (SpoolWriter writer = spool.BeginMessage(spool.NextId()))
            {
                await Assert.ThrowsAnyAsync<IOException>(async () =>
                {
                    writer.Write(SpoolTestData.Body(3, 100_000));
                    await writer.CommitAsync("env"u8.ToArray());
                });
            }

            free = long.MaxValue;
            d = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(4, 100_000));
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, options, out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Equal([a, b, d], recovered.Select(m => m.Id));
            Assert.Equal(SpoolTestData.Body(4, 100_000), SpoolTestData.ReadBody(spool, d));
        }
    }

    /// <summary>
    /// A failed fdatasync (a filesystem that allocates at writeback and found the disk full, or
    /// EIO) fails the commits of that round, and of any message with a record written before it
    /// into the same segment (those bytes may never reach the disk), never acknowledges them, and
    /// does not stop the spool: once syncs work again new messages go into a new segment and are
    /// acknowledged, and a restart recovers exactly the acknowledged ones.
    /// </summary>
    [Fact]
    public async Task FailedSyncFailsTheCommitsItCoversAndTheSpoolGoesOnWhenSyncsWorkAgain()
    {
        using var dir = new SpoolTestDir();
        bool fail = false;
        SpoolOptions Options()
        {
            SpoolOptions options = dir.Options(fragmentSize: 1024);
            options.BeforeSyncRound = () =>
            {
                if (fail)
                {
                    throw new IOException("injected fdatasync failure: No space left on device");
                }
            };
            return options;
        }

        uint a;
        uint d;
        uint e;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, Options(), out _))
        {
            a = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(1, 3000));

            // A message in the middle of its text when the sync fails: its first fragments are
            // in the segment whose sync failed.
            uint c = spool.NextId();
            SpoolWriter open = spool.BeginMessage(c);
            open.Write(SpoolTestData.Body(3, 2500));

            fail = true;
            await Assert.ThrowsAsync<IOException>(() => SpoolTestData.StoreAsync(spool, SpoolTestData.Body(2, 10)));
            Assert.Contains(dir.LogLines, l => l.Contains("sync failed", StringComparison.Ordinal) && l.Contains("not acknowledged (451 4.3.0)", StringComparison.Ordinal));
            fail = false;

            // Syncs work again: the message begun before still fails (its first bytes may be lost) ...
            open.Write(SpoolTestData.Body(30, 100));
            await Assert.ThrowsAsync<IOException>(async () => await open.CommitAsync(SpoolTestData.Envelope(c)));
            open.Dispose();
            Assert.False(spool.Contains(c));

            // ... and new ones are taken, in a new segment.
            d = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(4, 3000));
            e = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(5, 100));
            Assert.Equal(2, dir.SegmentFiles().Length);
            Assert.Equal(3, spool.LiveMessages);
            Assert.Equal(SpoolTestData.Body(1, 3000), SpoolTestData.ReadBody(spool, a));
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, Options(), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Equal([a, d, e], recovered.Select(m => m.Id));
            Assert.Equal(SpoolTestData.Body(4, 3000), SpoolTestData.ReadBody(spool, d));
        }
    }
}
