namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// A count of events since the start, shown by <c>d m smtp</c> and /metrics: added to from any
/// thread without a lock, read whole (a 64-bit read that does not tear on a 32-bit CPU).
/// </summary>
internal sealed class EventCounter
{
    private long _value;

    public long Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);

    public void Add(long amount) => Interlocked.Add(ref _value, amount);
}
