namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// The SMTP resource statistics (<c>d s smtp</c>): one IN and one OUT value per counter, updated
/// with Interlocked operations from any thread. In the resource's counters, which every session
/// updates at once, each value has its own 64-byte cache line (2.2 KB); a channel's counters,
/// updated by the one session that holds the channel, are packed (280 bytes).
/// </summary>
internal sealed class SmtpCounters
{
    internal const int CellCount = SmtpCounterInfo.CounterCount * 2;

    private const int PaddedStride = 8; // longs per cache line

    // Cell i lives at (i + 1) * _stride: with padding, line 0 is padding next to the array header.
    private readonly long[] _cells;
    private readonly int _stride;

    private DateTimeOffset _clearedAt; // 16 bytes, so read and written under the lock of _cells (no lock object of its own: 40 bytes less per channel)

    /// <param name="padded">One cache line per value (counters that many threads update at once).</param>
    public SmtpCounters(DateTimeOffset createdAt, bool padded = true)
    {
        _clearedAt = createdAt;
        _stride = padded ? PaddedStride : 1;
        _cells = new long[(CellCount + 2) * _stride];
    }

    public DateTimeOffset ClearedAt
    {
        get
        {
            lock (_cells)
            {
                return _clearedAt;
            }
        }
    }

    public void Increment(SmtpCounter counter, Direction direction)
        => Interlocked.Increment(ref Cell(counter, direction));

    public void Add(SmtpCounter counter, Direction direction, long amount)
        => Interlocked.Add(ref Cell(counter, direction), amount);

    public long Get(SmtpCounter counter, Direction direction)
        => Volatile.Read(ref Cell(counter, direction));

    /// <summary>All values (each read atomically; the set is not one instant) and the clear time.</summary>
    public SmtpCountersSnapshot Snapshot()
    {
        var values = new SmtpCountersSnapshot.Values();
        for (int i = 0; i < CellCount; i++)
        {
            values[i] = Volatile.Read(ref _cells[(i + 1) * _stride]);
        }

        return new SmtpCountersSnapshot(values, ClearedAt);
    }

    /// <summary>Zeroes every counter and records <paramref name="now"/> as the clear time.</summary>
    public void Clear(DateTimeOffset now)
    {
        lock (_cells)
        {
            for (int i = 0; i < CellCount; i++)
            {
                Interlocked.Exchange(ref _cells[(i + 1) * _stride], 0);
            }

            _clearedAt = now;
        }
    }

    internal static int CellIndex(SmtpCounter counter, Direction direction)
    {
        if (!SmtpCounterInfo.HasCell(counter, direction))
        {
            throw new ArgumentException($"{SmtpCounterInfo.Label(counter)} has no {direction} value.", nameof(direction));
        }

        return (SmtpCounterInfo.Index(counter) * 2) + (direction == Direction.Out ? 1 : 0);
    }

    private ref long Cell(SmtpCounter counter, Direction direction)
        => ref _cells[(CellIndex(counter, direction) + 1) * _stride];
}
