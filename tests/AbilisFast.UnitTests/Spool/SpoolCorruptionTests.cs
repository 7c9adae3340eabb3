namespace AbilisFast.Server.Tests.Spool;

public sealed class SpoolCorruptionTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TornTailLosesOnlyThePartialMessage(bool truncate)
    {
        using var dir = new SpoolTestDir();
        uint committed;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(fragmentSize: 1024), out _))
        {
            committed = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(1, 3000));
            SpoolWriter partial = spool.BeginMessage(spool.NextId());
            partial.Write(SpoolTestData.Body(2, 3000)); // two Data records reach the disk, no commit
        }

        string file = Assert.Single(dir.SegmentFiles());
        byte[] bytes = File.ReadAllBytes(file);
        int last = Array.FindLastIndex(bytes, b => b != 0);
        if (truncate)
        {
            using var fs = new FileStream(file, FileMode.Open);
            fs.SetLength(last - 5);
        }
        else
        {
            using var fs = new FileStream(file, FileMode.Open);
            fs.Position = last - 10;
            fs.Write(Enumerable.Repeat((byte)0xAB, 50).ToArray());
        }

        uint next;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(fragmentSize: 1024), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Equal(committed, Assert.Single(recovered).Id);
            Assert.Equal(SpoolTestData.Body(1, 3000), SpoolTestData.ReadBody(spool, committed));
            next = await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(3, 3000));
        }

        Assert.Contains(dir.LogLines, l => l.Contains("torn", StringComparison.Ordinal));
        Assert.False(Directory.Exists(dir.CorruptDir));

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(fragmentSize: 1024), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Equal([committed, next], recovered.Select(m => m.Id));
            Assert.Equal(SpoolTestData.Body(3, 3000), SpoolTestData.ReadBody(spool, next));
            Assert.Equal(SpoolTestData.Body(1, 3000), SpoolTestData.ReadBody(spool, committed));
        }
    }

    [Fact]
    public async Task CorruptMiddleRecordIsQuarantinedAndLaterMessagesSurvive()
    {
        using var dir = new SpoolTestDir();
        var ids = new List<uint>();
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(fragmentSize: 1024), out _))
        {
            for (int i = 0; i < 3; i++)
            {
                ids.Add(await SpoolTestData.StoreAsync(spool, SpoolTestData.Body((uint)i, 2500)));
            }
        }

        string file = Assert.Single(dir.SegmentFiles());
        FragmentLocation victim;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(fragmentSize: 1024), out IReadOnlyList<RecoveredMessage> recovered))
        {
            victim = recovered[0].Fragments[1];
        }

        using (var fs = new FileStream(file, FileMode.Open))
        {
            fs.Position = victim.Offset + 100;
            int b = fs.ReadByte();
            fs.Position = victim.Offset + 100;
            fs.WriteByte((byte)(b ^ 0x04));
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(fragmentSize: 1024), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Equal(ids.Skip(1), recovered.Select(m => m.Id));
            Assert.Equal(SpoolTestData.Body(2, 2500), SpoolTestData.ReadBody(spool, ids[2]));
        }

        Assert.Single(Directory.GetFiles(dir.CorruptDir));
        Assert.Contains(dir.LogLines, l => l.Contains("resynchronised", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryBitFlipIsDetectedOrHarmless()
    {
        using var dir = new SpoolTestDir();
        SpoolOptions Options() => dir.Options(segmentSize: 8192, fragmentSize: 256, fsync: false);
        var expected = new Dictionary<uint, (byte[] Body, byte[] Envelope)>();
        byte[] retry = "retry-state"u8.ToArray();
        uint withRetry;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, Options(), out _))
        {
            foreach (int size in new[] { 100, 600, 0, 300 })
            {
                byte[] body = SpoolTestData.Body((uint)size, size);
                uint id = await SpoolTestData.StoreAsync(spool, body, chunk: 77);
                expected[id] = (body, SpoolTestData.Envelope(id));
            }

            withRetry = expected.Keys.First();
            spool.WriteRetry(withRetry, retry);
            spool.MarkDone(expected.Keys.Last()); // may resurrect if its Done record is damaged: still a correct message
        }

        string file = Assert.Single(dir.SegmentFiles());
        byte[] original = File.ReadAllBytes(file);
        int used = Array.FindLastIndex(original, b => b != 0) + 1;
        int quarantined = 0;
        for (int pos = 0; pos < used + 32; pos++)
        {
            string copyDir = Path.Combine(dir.Path, "flip");
            Directory.CreateDirectory(copyDir);
            byte[] flipped = (byte[])original.Clone();
            flipped[pos] ^= (byte)(1 << (pos % 8));
            File.WriteAllBytes(Path.Combine(copyDir, Path.GetFileName(file)), flipped);

            using (SpoolStore spool = SpoolStore.Open(copyDir, Options(), out IReadOnlyList<RecoveredMessage> recovered))
            {
                foreach (RecoveredMessage m in recovered)
                {
                    Assert.True(expected.TryGetValue(m.Id, out var want), $"unknown id {m.Id:X8} after flip at {pos}");
                    Assert.Equal(want.Envelope, m.Envelope);
                    Assert.Equal(want.Body, SpoolTestData.ReadBody(spool, m.Id));
                    Assert.True(m.LastRetry is null || (m.Id == withRetry && m.LastRetry.AsSpan().SequenceEqual(retry)));
                }

                // The spool stays writable after any damage.
                await SpoolTestData.StoreAsync(spool, SpoolTestData.Body(99, 500));
            }

            if (Directory.Exists(Path.Combine(copyDir, "corrupt")))
            {
                quarantined++;
            }

            Directory.Delete(copyDir, recursive: true);
        }

        Assert.True(quarantined > 0);
    }

    [Fact]
    public void GarbageFilesNeverThrow()
    {
        using var dir = new SpoolTestDir();
        var random = new Random(5);
        byte[] junk = new byte[20_000];
        random.NextBytes(junk);
        File.WriteAllBytes(Path.Combine(dir.Path, "seg-00000001.jnl"), junk);
        File.WriteAllBytes(Path.Combine(dir.Path, "seg-00000002.jnl"), []);
        File.WriteAllBytes(Path.Combine(dir.Path, "seg-00000003.jnl"), new byte[100]);
        File.WriteAllBytes(Path.Combine(dir.Path, "unrelated.txt"), junk);

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Empty(recovered);
        }

        Assert.True(File.Exists(Path.Combine(dir.Path, "unrelated.txt")));
        Assert.NotEmpty(Directory.GetFiles(dir.CorruptDir));
    }
}
