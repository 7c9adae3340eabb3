using CsCheck;

namespace AbilisFast.Server.Tests.Properties;

/// <summary>
/// Properties (CsCheck) of spool recovery on a segment the real writer produced: four messages
/// (empty, one fragment, several fragments), a Retry record, one message marked done. Cut anywhere,
/// recovery returns exactly the messages whose Commit lies before the cut and whose Done does not;
/// with any single bit flipped, it returns only messages that were written, each intact. Recovery
/// has no error type of its own for content, so nothing may be thrown at all.
/// </summary>
public sealed class SpoolDamageProperties : IDisposable
{
    private const long Iterations = 250;

    private static readonly Lazy<Written> Valid = new(static () => Written.CreateAsync().GetAwaiter().GetResult());

    private readonly SpoolHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public void TheIntactFileGivesBackEveryLiveMessage()
    {
        Written w = Valid.Value;
        IReadOnlyList<RecoveredCopy> recovered = _harness.Recover(w.Segment);
        Assert.Equal(w.Live, recovered.Select(static m => m.Id).ToHashSet());
        Assert.Equal(3, w.Live.Count);
    }

    [Fact]
    public void EveryTruncationRecoversExactlyTheCommittedPrefix()
    {
        Written w = Valid.Value;
        Gen.Int[0, w.Segment.Length].Sample(length =>
        {
            IReadOnlyList<RecoveredCopy> recovered = _harness.Recover(w.Segment.AsSpan(0, length));
            Assert.Equal(w.LiveAt(length), recovered.Select(static m => m.Id).ToHashSet());
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void EveryBitFlipYieldsOnlyMessagesThatWereWritten()
    {
        Written w = Valid.Value;
        Gen.Int[0, (w.Segment.Length * 8) - 1].Sample(bit =>
        {
            byte[] damaged = (byte[])w.Segment.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            // The harness reads every body back and throws unless it is the one its CHECK envelope names.
            IReadOnlyList<RecoveredCopy> recovered = _harness.Recover(damaged);
            Assert.Subset(w.Committed, recovered.Select(static m => m.Id).ToHashSet());
        }, iter: Iterations, threads: 1);
    }

    /// <summary>A segment written by the real spool, trimmed after its last record, and where each record's payload ends.</summary>
    private sealed record Written(byte[] Segment, IReadOnlyList<(SpoolRecordType Type, uint Id, int End)> Records)
    {
        public HashSet<uint> Committed => [.. Records.Where(static r => r.Type == SpoolRecordType.Commit).Select(static r => r.Id)];

        public HashSet<uint> Live => LiveAt(Segment.Length);

        /// <summary>Messages whose Commit payload ends within the first <paramref name="length"/> bytes and whose Done does not.</summary>
        public HashSet<uint> LiveAt(int length)
        {
            var live = new HashSet<uint>();
            foreach ((SpoolRecordType type, uint id, int end) in Records.Where(r => r.End <= length))
            {
                if (type == SpoolRecordType.Commit)
                {
                    live.Add(id);
                }
                else if (type == SpoolRecordType.Done)
                {
                    live.Remove(id);
                }
            }

            return live;
        }

        public static async Task<Written> CreateAsync()
        {
            string directory = Path.Combine(Path.GetTempPath(), "abilisfast-prop-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                using (SpoolStore spool = SpoolStore.Open(directory, SpoolHarness.Options(), out _))
                {
                    var random = new Random(7);
                    var ids = new List<uint>();
                    foreach (int size in new[] { 0, 100, 700, 300 })
                    {
                        byte[] body = new byte[size];
                        random.NextBytes(body);
                        ids.Add(await SpoolHarness.WriteCheckedMessageAsync(spool, body, 90));
                    }

                    spool.WriteRetry(ids[1], "retry-state"u8);
                    spool.MarkDone(ids[3]);
                }

                byte[] file = File.ReadAllBytes(Assert.Single(Directory.GetFiles(directory, "seg-*.jnl")));
                uint seed = SpoolRecord.SeedFor(BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(SpoolRecord.HeaderSize)));
                var records = new List<(SpoolRecordType, uint, int)>();
                int pos = SpoolStore.SegmentHeaderSize;
                while (SpoolRecord.TryRead(file, pos, seed, out SpoolRecordView view))
                {
                    // A record is whole once its payload is: the CRC does not cover the padding after it.
                    records.Add((view.Type, view.Id, view.PayloadOffset + view.PayloadLength));
                    pos += view.TotalSize;
                }

                Assert.Equal(4, records.Count(static r => r.Item1 == SpoolRecordType.Commit));
                return new Written(file[..pos], records);
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
