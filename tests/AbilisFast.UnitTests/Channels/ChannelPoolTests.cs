namespace AbilisFast.Server.Tests.Channels;

public sealed class ChannelPoolTests
{
    [Fact]
    public void OutTakesReservedOutFirstThenSharedUpToTheCap()
    {
        // 0-1 reserved OUT, 2 reserved IN, 3-8 shared.
        var pool = new ChannelPool(total: 9, reservedIn: 1, reservedOut: 2);
        Assert.Equal(6, pool.SharedCount);
        Assert.Equal(2, pool.ReservedOutCount);

        var taken = new List<SmtpChannel>();
        while (pool.TryAcquireOut(maxSharedOut: 3, out SmtpChannel channel))
        {
            taken.Add(channel);
        }

        Assert.Equal([0, 1, 3, 4, 5], taken.Select(c => c.Number));
        Assert.Equal(2, pool.ActiveResOut);
        Assert.Equal(3, pool.ActiveMixOut);

        // IN keeps the reserved IN channel and the rest of the shared ones.
        var inbound = new List<int>();
        while (pool.TryAcquireIn(out SmtpChannel channel))
        {
            Assert.Equal(Direction.In, channel.Direction);
            inbound.Add(channel.Number);
        }

        Assert.Equal([2, 6, 7, 8], inbound);

        // A shared channel freed by IN does not go to OUT while OUT is at its cap; one freed by OUT does.
        pool.Release(pool.Channels[6]);
        Assert.False(pool.TryAcquireOut(3, out _));
        pool.Release(pool.Channels[3]);
        Assert.True(pool.TryAcquireOut(3, out SmtpChannel again));
        Assert.Equal(Direction.Out, again.Direction);
        Assert.Equal(3, pool.ActiveMixOut);
    }

    [Fact]
    public void WithoutTheCapOutMayTakeEveryFreeChannel()
    {
        var pool = new ChannelPool(total: 4, reservedIn: 1, reservedOut: 1);
        int count = 0;
        while (pool.TryAcquireOut(out _))
        {
            count++;
        }

        Assert.Equal(3, count);
        Assert.False(pool.TryAcquireOut(100, out _));
    }
}
