namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// Waits on conditions with deadlines, never plain sleeps: <see cref="WaitAsync{T}(Func{T}, string, TimeSpan?)"/>
/// for something another process or thread does (tests end by themselves), <see cref="HoldsForAsync(Func{bool}, TimeSpan, string)"/>
/// for a negative check (something must not happen for a while), and <see cref="LetTimePassAsync"/>
/// where real time itself is what the test is about (an idle period, a rate window, a cache that
/// expires) and no condition can be watched instead.
/// </summary>
internal static class Eventually
{
    /// <summary>How often a condition is looked at.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public static async Task<T> WaitAsync<T>(Func<T?> probe, string what, TimeSpan? timeout = null)
        where T : class
    {
        DateTime until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            if (probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(Poll);
        }
    }

    /// <summary>The same with an asynchronous probe (a console command, a process).</summary>
    public static async Task<T> WaitAsync<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null)
        where T : class
    {
        DateTime until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(Poll);
        }
    }

    public static async Task WaitAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        await WaitAsync(() => condition() ? string.Empty : null, what, timeout);

    /// <summary>The files in <paramref name="directory"/> once there are at least <paramref name="count"/>.</summary>
    public static Task<string[]> FilesAsync(string directory, int count, TimeSpan? timeout = null) =>
        WaitAsync(() => Directory.Exists(directory) && Directory.GetFiles(directory) is { } files && files.Length >= count ? files : null,
            $"{count} file(s) in {directory}", timeout);

    /// <summary>The same for an asynchronous condition.</summary>
    public static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        await WaitAsync(async () => await condition() ? string.Empty : null, what, timeout);

    /// <summary>
    /// A negative check: <paramref name="condition"/> stays true for the whole of <paramref name="span"/>
    /// (looked at every 50 ms, so what breaks it is caught at once, not only at the end).
    /// </summary>
    public static async Task HoldsForAsync(Func<bool> condition, TimeSpan span, string what)
    {
        DateTime until = DateTime.UtcNow + span;
        do
        {
            Assert.True(condition(), $"no longer true: {what}");
            await Task.Delay(Poll);
        }
        while (DateTime.UtcNow < until);

        Assert.True(condition(), $"no longer true: {what}");
    }

    /// <summary>The same for an asynchronous condition (a console command, a file read by a process).</summary>
    public static async Task HoldsForAsync(Func<Task<bool>> condition, TimeSpan span, string what)
    {
        DateTime until = DateTime.UtcNow + span;
        do
        {
            Assert.True(await condition(), $"no longer true: {what}");
            await Task.Delay(Poll);
        }
        while (DateTime.UtcNow < until);

        Assert.True(await condition(), $"no longer true: {what}");
    }

    /// <summary>
    /// Lets <paramref name="span"/> of real time pass on purpose, where the passing time is itself
    /// what the test is about and nothing can be watched instead; <paramref name="why"/> says which.
    /// Never for waiting on something to happen.
    /// </summary>
    public static Task LetTimePassAsync(TimeSpan span, string why)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(why);
        return Task.Delay(span);
    }
}
