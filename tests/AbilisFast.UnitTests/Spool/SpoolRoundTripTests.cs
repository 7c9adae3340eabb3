namespace AbilisFast.Server.Tests.Spool;

public sealed class SpoolRoundTripTests
{
    private const int Fragment = 16 * 1024;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(Fragment - 1)]
    [InlineData(Fragment)]
    [InlineData(Fragment + 1)]
    [InlineData(3 * Fragment)]
    [InlineData(3 * 1024 * 1024 + 17)]
    public async Task BodyRoundTripsBeforeAndAfterReopen(int size)
    {
        using var dir = new SpoolTestDir();
        byte[] body = SpoolTestData.Body((uint)size + 1, size);
        uint id;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out IReadOnlyList<RecoveredMessage> none))
        {
            Assert.Empty(none);
            id = await SpoolTestData.StoreAsync(spool, body, chunk: 5000);
            Assert.Equal(body, SpoolTestData.ReadBody(spool, id));
            Assert.Equal(1, spool.LiveMessages);
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out IReadOnlyList<RecoveredMessage> recovered))
        {
            RecoveredMessage m = Assert.Single(recovered);
            Assert.Equal(id, m.Id);
            Assert.Equal(size, m.BodyLength);
            Assert.Equal(SpoolTestData.Envelope(id), m.Envelope);
            Assert.Equal((size + Fragment - 1) / Fragment, m.Fragments.Count);
            Assert.Equal(body, SpoolTestData.ReadBody(spool, id));
            Assert.True(spool.NextId() > id);
        }

        Assert.Empty(dir.LogLines);
    }

    [Fact]
    public async Task MessageSpansSegmentsAndRollsOver()
    {
        using var dir = new SpoolTestDir();
        byte[] big = SpoolTestData.Body(7, 200_000); // > 3 segments of 64 KiB
        var ids = new List<uint>();
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out _))
        {
            ids.Add(await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(1, 30_000)));
            ids.Add(await SpoolTestData.StoreAsync(spool, big));
            ids.Add(await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(3, 40_000)));
            Assert.True(dir.SegmentFiles().Length >= 4);
            foreach (string file in dir.SegmentFiles())
            {
                Assert.Equal(64 * 1024, new FileInfo(file).Length);
            }
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Equal(ids, recovered.Select(m => m.Id));
            RecoveredMessage spanning = recovered[1];
            Assert.True(spanning.Fragments.Select(f => f.Segment).Distinct().Count() >= 3);
            Assert.Equal(big, SpoolTestData.ReadBody(spool, ids[1]));
            Assert.Equal(SpoolTestData.Body(1, 30_000), SpoolTestData.ReadBody(spool, ids[0]));
            Assert.Equal(SpoolTestData.Body(3, 40_000), SpoolTestData.ReadBody(spool, ids[2]));
        }
    }

    [Fact]
    public async Task ManyConcurrentWritersAllRecovered()
    {
        using var dir = new SpoolTestDir();
        const int Tasks = 32;
        const int PerTask = 200;
        var stored = new System.Collections.Concurrent.ConcurrentDictionary<uint, int>();
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(segmentSize: 256 * 1024, fragmentSize: 1024), out _))
        {
            await Task.WhenAll(Enumerable.Range(0, Tasks).Select(t => Task.Run(async () =>
            {
                var random = new Random(t);
                for (int i = 0; i < PerTask; i++)
                {
                    int size = random.Next(0, 4000);
                    uint id = spool.NextId();
                    using SpoolWriter writer = spool.BeginMessage(id);
                    writer.Write(SpoolTestData.Body(id, size));
                    await writer.CommitAsync(SpoolTestData.Envelope(id));
                    Assert.True(stored.TryAdd(id, size));
                }
            })));

            Assert.Equal(Tasks * PerTask, spool.LiveMessages);
            Assert.True(spool.SyncCalls <= spool.CommitsCompleted);
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(segmentSize: 256 * 1024, fragmentSize: 1024), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Equal(Tasks * PerTask, recovered.Count);
            foreach (RecoveredMessage m in recovered)
            {
                int size = stored[m.Id];
                Assert.Equal(size, m.BodyLength);
                Assert.Equal(SpoolTestData.Envelope(m.Id), m.Envelope);
                Assert.Equal(SpoolTestData.Body(m.Id, size), SpoolTestData.ReadBody(spool, m.Id));
            }
        }

        Assert.Empty(dir.LogLines);
    }

    [Fact]
    public void IdsAreMonotonicHexAndNeverZero()
    {
        using var dir = new SpoolTestDir();
        using SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out _);
        uint a = spool.NextId();
        uint b = spool.NextId();
        Assert.NotEqual(0u, a);
        Assert.True(b > a || b == 1);
        Assert.Equal("84A582F6", SpoolIds.Format(0x84A582F6));
    }

    [Fact]
    public void AvailableBytesUsesStatvfsOrOverride()
    {
        using var dir = new SpoolTestDir();
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out _))
        {
            Assert.True(spool.AvailableBytes > 0);
        }

        SpoolOptions options = dir.Options();
        options.FreeSpaceOverride = () => 12345;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, options, out _))
        {
            Assert.Equal(12345, spool.AvailableBytes);
        }
    }

    [Fact]
    public void Crc32CMatchesKnownVector()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        byte[] data = SpoolTestData.Body(9, 1001);
        uint split = ~Crc32C.Update(Crc32C.Update(Crc32C.Initial, data.AsSpan(0, 13)), data.AsSpan(13));
        Assert.Equal(Crc32C.Compute(data), split);
    }

    /// <summary>
    /// The tables the Native AOT build uses (its x64 baseline has no CRC32 instruction) give what
    /// the instruction gives (the JIT uses it here), at every length and alignment, and the known vector.
    /// </summary>
    [Fact]
    public void Crc32CTablesMatchTheInstruction()
    {
        Assert.Equal(0xE3069283u, ~Crc32C.UpdateWithTables(Crc32C.Initial, "123456789"u8));
        byte[] data = SpoolTestData.Body(11, 4099);
        for (int start = 0; start < 9; start++)
        {
            for (int length = 0; length < 80; length++)
            {
                ReadOnlySpan<byte> part = data.AsSpan(start, length);
                Assert.Equal(Crc32C.Update(0x1234_5678, part), Crc32C.UpdateWithTables(0x1234_5678, part));
            }
        }

        Assert.Equal(Crc32C.Update(Crc32C.Initial, data), Crc32C.UpdateWithTables(Crc32C.Initial, data));
        Assert.True(System.Runtime.Intrinsics.X86.Sse42.X64.IsSupported || System.Runtime.Intrinsics.Arm.Crc32.Arm64.IsSupported,
            "the test machine's JIT has no CRC32 instruction: both sides would be the tables");
    }
}
