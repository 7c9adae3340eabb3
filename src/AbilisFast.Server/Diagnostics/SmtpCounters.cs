namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// The SMTP resource statistics (<c>d s smtp</c>): one IN and one OUT value per counter, updated
/// with Interlocked operations from any thread. Each value has its own 64-byte cache line.
/// </summary>
internal sealed class SmtpCounters
{
    internal const int CellCount = SmtpCounterInfo.CounterCount * 2;

    private const int Stride = 8; // longs per cache line

    // Cell i lives at (i + 1) * Stride: line 0 is padding next to the array header.
    private readonly long[] _cells = new long[(CellCount + 2) * Stride];

    private DateTimeOffset _clearedAt; // 16 bytes, so read and written under _clearLock

    private readonly Lock _clearLock = new();

    public SmtpCounters(DateTimeOffset createdAt) => _clearedAt = createdAt;

    public DateTimeOffset ClearedAt
    {
        get
        {
            lock (_clearLock)
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
            values[i] = Volatile.Read(ref _cells[(i + 1) * Stride]);
        }

        return new SmtpCountersSnapshot(values, ClearedAt);
    }

    /// <summary>Zeroes every counter and records <paramref name="now"/> as the clear time.</summary>
    public void Clear(DateTimeOffset now)
    {
        lock (_clearLock)
        {
            for (int i = 0; i < CellCount; i++)
            {
                Interlocked.Exchange(ref _cells[(i + 1) * Stride], 0);
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
        => ref _cells[(CellIndex(counter, direction) + 1) * Stride];
}
