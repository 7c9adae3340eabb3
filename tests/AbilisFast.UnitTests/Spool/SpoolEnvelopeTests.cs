namespace AbilisFast.Server.Tests.Spool;

/// <summary>The envelope of a live message can be read back, in the run that stored it and after a restart.</summary>
public sealed class SpoolEnvelopeTests
{
    [Fact]
    public async Task EnvelopesAreKeptForLiveMessagesOnly()
    {
        using var dir = new SpoolTestDir();
        uint first;
        uint second;
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(fragmentSize: 1024), out _))
        {
            first = await SpoolTestData.StoreAsync(spool, new byte[3000]);
            second = await SpoolTestData.StoreAsync(spool, new byte[10]);
            Assert.Equal(SpoolTestData.Envelope(first), spool.ReadEnvelope(first));
            Assert.Equal(SpoolTestData.Envelope(second), spool.ReadEnvelope(second));
            spool.MarkDone(first);
            Assert.Null(spool.ReadEnvelope(first));
            Assert.Null(spool.ReadEnvelope(12345));
        }

        using (SpoolStore again = SpoolStore.Open(dir.Path, dir.Options(fragmentSize: 1024), out _))
        {
            Assert.Null(again.ReadEnvelope(first));
            Assert.Equal(SpoolTestData.Envelope(second), again.ReadEnvelope(second));
        }
    }

    /// <summary>
    /// The index keeps only where the envelope is, so it must be found wherever the Commit record went:
    /// after an empty body, in the same write as the last fragment, alone after a full buffer, behind
    /// many fragments across a segment roll, and with retry records in later segments.
    /// </summary>
    [Fact]
    public async Task EnvelopesAreReadBackFromTheirCommitRecordsWhateverTheLayout()
    {
        using var dir = new SpoolTestDir();
        int[] sizes = [0, 1, 1023, 1024, 1025, 5000, 40_000, 70_000, 3];
        var stored = new List<(uint Id, byte[] Body, byte[] Envelope)>();
        using (SpoolStore spool = SpoolStore.Open(dir.Path, dir.Options(segmentSize: 64 * 1024, fragmentSize: 1024), out _))
        {
            for (int i = 0; i < sizes.Length; i++)
            {
                byte[] envelope = System.Text.Encoding.ASCII.GetBytes($"envelope {i} " + new string((char)('a' + i), 10 + (i * 37)));
                byte[] body = SpoolTestData.Body((uint)i + 7, sizes[i]);
                uint id = await SpoolTestData.StoreAsync(spool, body, envelope, chunk: 700);
                stored.Add((id, body, envelope));
                spool.WriteRetry(stored[0].Id, new byte[2000]);
            }

            Assert.True(dir.SegmentFiles().Length > 2, "the layout should span several segments");
            foreach ((uint id, byte[] body, byte[] envelope) in stored)
            {
                Assert.Equal(envelope, spool.ReadEnvelope(id));
                Assert.Equal(body, SpoolTestData.ReadBody(spool, id));
            }
        }

        using (SpoolStore again = SpoolStore.Open(dir.Path, dir.Options(segmentSize: 64 * 1024, fragmentSize: 1024), out _))
        {
            foreach ((uint id, byte[] body, byte[] envelope) in stored)
            {
                Assert.Equal(envelope, again.ReadEnvelope(id));
                Assert.Equal(body, SpoolTestData.ReadBody(again, id));
            }

            again.MarkDone(stored[0].Id);
            Assert.Null(again.ReadEnvelope(stored[0].Id));
            Assert.Equal(stored[1].Envelope, again.ReadEnvelope(stored[1].Id));
        }
    }
}
