using SpoolT = AbilisFast.Server.Spool.Spool;

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
        using (SpoolT spool = SpoolT.Open(dir.Path, dir.Options(fragmentSize: 1024), out _))
        {
            first = await SpoolTestData.StoreAsync(spool, new byte[3000]);
            second = await SpoolTestData.StoreAsync(spool, new byte[10]);
            Assert.Equal(SpoolTestData.Envelope(first), spool.ReadEnvelope(first));
            Assert.Equal(SpoolTestData.Envelope(second), spool.ReadEnvelope(second));
            spool.MarkDone(first);
            Assert.Null(spool.ReadEnvelope(first));
            Assert.Null(spool.ReadEnvelope(12345));
        }

        using (SpoolT again = SpoolT.Open(dir.Path, dir.Options(fragmentSize: 1024), out _))
        {
            Assert.Null(again.ReadEnvelope(first));
            Assert.Equal(SpoolTestData.Envelope(second), again.ReadEnvelope(second));
        }
    }
}
