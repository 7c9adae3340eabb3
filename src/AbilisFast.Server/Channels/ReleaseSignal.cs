namespace AbilisFast.Server.Channels;

/// <summary>
/// Wakes whoever waits for something to be given back (a channel, a MAX-IP-SES place). A waiter
/// takes <see cref="Next"/> *before* it tries to take the thing, then awaits it if the try failed;
/// the releaser gives the thing back, then calls <see cref="Pulse"/>. Either the try sees the
/// release or the pulse completes the task the waiter holds. Costs an interlocked read per release
/// and allocates only when someone has waited since the last pulse.
/// </summary>
internal sealed class ReleaseSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _observed;

    /// <summary>Completes at the next <see cref="Pulse"/>.</summary>
    public Task Next
    {
        get
        {
            Interlocked.Exchange(ref _observed, 1);
            return Volatile.Read(ref _next).Task;
        }
    }

    public void Pulse()
    {
        if (Volatile.Read(ref _observed) == 0 || Interlocked.Exchange(ref _observed, 0) == 0)
        {
            return;
        }

        TaskCompletionSource fired = Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        fired.TrySetResult();
    }
}
