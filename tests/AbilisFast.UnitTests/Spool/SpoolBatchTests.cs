using AbilisFast.Server.Tests.Support;

namespace AbilisFast.Server.Tests.Spool;

/// <summary>
/// A body larger than one fragment is written in batches of whole Data records (one pwrite per
/// <see cref="SpoolWriter.BatchBytes"/>), with the same records on disk as one pwrite per fragment.
/// </summary>
public sealed class SpoolBatchTests
{
    private const int Fragment = 16 * 1024;
    private const long Segment = 16L << 20;

    private static readonly int RecordsPerBatch = SpoolWriter.BatchBytes / SpoolRecord.SizeOf(Fragment);

    [Theory]
    [InlineData(Fragment + 1)]
    [InlineData(15 * Fragment)]
    [InlineData((15 * Fragment) + 1)]
    [InlineData(16 * Fragment)]
    [InlineData((31 * Fragment) - 5)]
    [InlineData((3 * 1024 * 1024) + 17)] // several batches
    public async Task LargeBodiesGoOutInBatchesAndRoundTrip(int size)
    {
        using var dir = new SpoolTestDir();
        byte[] body = SpoolTestData.Body((uint)size, size);
        int fragments = (size + Fragment - 1) / Fragment;
        uint id;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(segmentSize: Segment), out _))
        {
            id = spool.NextId();
            using (SpoolWriter writer = spool.BeginMessage(id))
            {
                for (int i = 0; i < body.Length; i += 5000)
                {
                    writer.Write(body.AsSpan(i, Math.Min(5000, body.Length - i)));
                }

                // Every fragment but the last is sealed before the commit; whole batches of them were written.
                Assert.Equal((fragments - 1) / RecordsPerBatch, writer.DataAppends);
                await writer.CommitAsync(SpoolTestData.Envelope(id));
            }

            Assert.Equal(body, SpoolTestData.ReadBody(spool, id));
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(segmentSize: Segment), out IReadOnlyList<RecoveredMessage> recovered))
        {
            RecoveredMessage m = Assert.Single(recovered);
            Assert.Equal(id, m.Id);
            Assert.Equal(size, m.BodyLength);
            Assert.Equal(fragments, m.Fragments.Count);
            Assert.Equal(SpoolTestData.Envelope(id), m.Envelope);
            Assert.Equal(body, SpoolTestData.ReadBody(spool, id));
        }

        Assert.Empty(dir.LogLines);
    }

    [Fact]
    public async Task BatchesRollOverToNewSegments()
    {
        using var dir = new SpoolTestDir();
        byte[] body = SpoolTestData.Body(9, 9_000_000);
        uint id;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(segmentSize: 4L << 20), out _))
        {
            id = await SpoolTestData.StoreAsync(spool, body, chunk: 65536);
            Assert.True(dir.SegmentFiles().Length >= 3);
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(segmentSize: 4L << 20), out IReadOnlyList<RecoveredMessage> recovered))
        {
            RecoveredMessage m = Assert.Single(recovered);
            Assert.True(m.Fragments.Select(f => f.Segment).Distinct().Count() >= 3);
            Assert.Equal(body, SpoolTestData.ReadBody(spool, id));
        }

        Assert.Empty(dir.LogLines);
    }

    [Fact]
    public async Task InterleavedLargeBodiesFromConcurrentWritersAllRecover()
    {
        using var dir = new SpoolTestDir();
        var bodies = new Dictionary<uint, byte[]>();
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(segmentSize: Segment), out _))
        {
            // Four writers, their batches interleaved in the same segment (as four sessions' are).
            var writers = new List<(SpoolWriter Writer, byte[] Body)>();
            for (int w = 0; w < 4; w++)
            {
                uint id = spool.NextId();
                byte[] body = SpoolTestData.Body(id, 700_000 + (w * 12_345));
                bodies[id] = body;
                writers.Add((spool.BeginMessage(id), body));
            }

            for (int at = 0; writers.Exists(x => at < x.Body.Length); at += 70_000)
            {
                foreach ((SpoolWriter writer, byte[] body) in writers)
                {
                    if (at < body.Length)
                    {
                        writer.Write(body.AsSpan(at, Math.Min(70_000, body.Length - at)));
                    }
                }
            }

            await Task.WhenAll(writers.Select(x => x.Writer.CommitAsync(SpoolTestData.Envelope(x.Writer.Id)).AsTask()));
            foreach ((SpoolWriter writer, _) in writers)
            {
                writer.Dispose();
            }
        }

        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(segmentSize: Segment), out IReadOnlyList<RecoveredMessage> recovered))
        {
            Assert.Equal(bodies.Keys.Order(), recovered.Select(m => m.Id).Order());
            foreach ((uint id, byte[] body) in bodies)
            {
                Assert.Equal(body, SpoolTestData.ReadBody(spool, id));
            }
        }

        Assert.Empty(dir.LogLines);
    }

    /// <summary>A large body costs no allocation per chunk: the batch buffer is pooled, the fragment list reused.</summary>
    [Fact]
    public void WritingALargeBodyAllocatesNothingInTheSteadyState()
    {
        using var dir = new SpoolTestDir();
        byte[] body = SpoolTestData.Body(1, 1 << 20);
        using SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(segmentSize: 16L << 20), out _);
        long allocated = Allocations.LeastOf(4, () =>
        {
            using SpoolWriter writer = spool.BeginMessage(spool.NextId());
            for (int i = 0; i < body.Length; i += 4096)
            {
                writer.Write(body.AsSpan(i, 4096));
            }

            Assert.True(writer.DataAppends > 0);

            // Disposed without a commit: aborted, the writer goes back to the pool.
        });
        Assert.Equal(0, allocated);
    }
}
