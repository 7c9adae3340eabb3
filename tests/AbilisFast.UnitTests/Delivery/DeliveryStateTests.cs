namespace AbilisFast.Server.Tests.Delivery;

public sealed class DeliveryStateTests
{
    [Fact]
    public void RetryStateRoundTrips()
    {
        var state = new DeliveryState(3) { Attempts = 4, NextAttemptUnixMs = 1_700_000_000_123 };
        state.Status[0] = RecipientStatus.Delivered;
        state.Status[2] = RecipientStatus.Failed;
        state.LastReply[0] = "250 ok";
        state.LastReply[1] = "451 4.3.0 später, bitte";
        Assert.True(DeliveryState.TryDecode(state.Encode(), 3, out DeliveryState? back));
        Assert.Equal(4, back!.Attempts);
        Assert.Equal(1_700_000_000_123, back.NextAttemptUnixMs);
        Assert.Equal(state.Status, back.Status);
        Assert.Equal(state.LastReply, back.LastReply);
        Assert.Equal(1, back.PendingCount);
    }

    [Fact]
    public void HeldRoundTripsAndVersion1RecordsStillDecode()
    {
        var state = new DeliveryState(1) { Attempts = 2, NextAttemptUnixMs = 42, Held = true };
        state.LastReply[0] = "451 later";
        byte[] v2 = state.Encode();
        Assert.Equal(2, v2[0]);
        Assert.True(DeliveryState.TryDecode(v2, 1, out DeliveryState? back));
        Assert.True(back!.Held);

        // A version 1 record, as the previous release wrote it: no flags byte.
        byte[] v1 = [1, .. v2.AsSpan(2)];
        Assert.True(DeliveryState.TryDecode(v1, 1, out DeliveryState? old));
        Assert.False(old!.Held);
        Assert.Equal(2, old.Attempts);
        Assert.Equal(42, old.NextAttemptUnixMs);
        Assert.Equal("451 later", old.LastReply[0]);
        Assert.False(DeliveryState.TryDecode([3, .. v2.AsSpan(1)], 1, out _));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void TheDelayReportFlagRoundTripsBesideHeld(bool held, bool delayReported)
    {
        var state = new DeliveryState(2) { Attempts = 3, Held = held, DelayReported = delayReported };
        byte[] payload = state.Encode();
        Assert.Equal((held ? 1 : 0) | (delayReported ? 2 : 0), payload[1]);
        Assert.True(DeliveryState.TryDecode(payload, 2, out DeliveryState? back));
        Assert.Equal((held, delayReported, 3), (back!.Held, back.DelayReported, back.Attempts));
    }

    [Fact]
    public void EveryTruncationAndAWrongRecipientCountAreRefused()
    {
        var state = new DeliveryState(2);
        state.LastReply[1] = "421 4.4.2 closing";
        byte[] payload = state.Encode();
        for (int length = 0; length < payload.Length; length++)
        {
            Assert.False(DeliveryState.TryDecode(payload.AsSpan(0, length), 2, out _), $"length {length}");
        }

        Assert.False(DeliveryState.TryDecode(payload, 3, out _));
        Assert.False(DeliveryState.TryDecode([.. payload, 0], 2, out _));
    }

    [Fact]
    public void LongRepliesAreCutOnACharacterBoundary()
    {
        var state = new DeliveryState(1);
        state.LastReply[0] = new string('é', 900);
        Assert.True(DeliveryState.TryDecode(state.Encode(), 1, out DeliveryState? back));
        Assert.Equal(500, back!.LastReply[0]!.Length);
    }

    [Theory]
    [InlineData(300, 1, 300)]
    [InlineData(300, 2, 600)]
    [InlineData(300, 3, 1200)]
    [InlineData(300, 4, 2400)]
    [InlineData(300, 5, 3600)]
    [InlineData(300, 50, 3600)]
    [InlineData(1, 1, 1)]
    [InlineData(1, 10, 512)]
    [InlineData(1, 13, 3600)]
    [InlineData(7200, 1, 7200)]
    [InlineData(7200, 5, 7200)]
    public void TheScheduleDoublesUpToTheCap(int delaySeconds, int attempts, int expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), RetrySchedule.Delay(TimeSpan.FromSeconds(delaySeconds), attempts));
    }

    [Fact]
    public void OneMessageOrAllCanBeTakenOutOfBothQueues()
    {
        var queue = new MessageQueue();
        for (uint id = 1; id <= 5; id++)
        {
            queue.Enqueue(new QueuedMessage(id, 10, 0));
        }

        queue.Defer(new QueuedMessage(6, 10, 0), 1000);
        queue.Defer(new QueuedMessage(7, 10, 0), 2000);

        Assert.True(queue.TryRemove(3, out QueuedMessage three, out bool deferred));
        Assert.Equal(3u, three.Id);
        Assert.False(deferred);
        Assert.True(queue.TryRemove(7, out _, out deferred));
        Assert.True(deferred);
        Assert.False(queue.TryRemove(3, out _, out _));
        Assert.Equal((4, 1), (queue.OutCount, queue.DeferCount));

        Assert.Equal([1u, 2u, 4u, 5u, 6u], queue.TakeAll().Select(m => m.Id).Order());
        Assert.Equal((0, 0), (queue.OutCount, queue.DeferCount));
        Assert.Null(queue.NextDueUnixMs);
    }

    [Fact]
    public void DeferredMessagesComeBackInDueOrder()
    {
        var queue = new MessageQueue();
        int deferredEvents = 0;
        queue.MessageDeferred += () => deferredEvents++;
        queue.Defer(new QueuedMessage(1, 10, 0), 3000);
        queue.Defer(new QueuedMessage(2, 10, 0), 1000);
        queue.Defer(new QueuedMessage(3, 10, 0), 2000);
        Assert.Equal(3, queue.DeferCount);
        Assert.Equal(3, deferredEvents);
        Assert.Equal(1000, queue.NextDueUnixMs);
        Assert.Equal([2u, 3u, 1u], queue.DeferredSnapshot().Select(d => d.Message.Id));

        Assert.Equal(0, queue.PromoteDue(999));
        Assert.Equal(2, queue.PromoteDue(2000));
        Assert.Equal(1, queue.DeferCount);
        Assert.Equal(2, queue.OutCount);
        Assert.True(queue.TryDequeue(out QueuedMessage first));
        Assert.Equal(2u, first.Id);
        Assert.Equal(1, queue.PromoteDue(0, all: true));
        Assert.Null(queue.NextDueUnixMs);
        Assert.Equal(0, queue.DeferCount);
    }
}
