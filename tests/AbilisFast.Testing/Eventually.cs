namespace AbilisFast.Server.Tests.Support;

/// <summary>Waits for something another process or thread does, with a deadline (tests end by themselves).</summary>
internal static class Eventually
{
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

            await Task.Delay(50);
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

            await Task.Delay(50);
        }
    }

    public static async Task WaitAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        await WaitAsync(() => condition() ? string.Empty : null, what, timeout);

    /// <summary>The files in <paramref name="directory"/> once there are at least <paramref name="count"/>.</summary>
    public static Task<string[]> FilesAsync(string directory, int count, TimeSpan? timeout = null) =>
        WaitAsync(() => Directory.Exists(directory) && Directory.GetFiles(directory) is { } files && files.Length >= count ? files : null,
            $"{count} file(s) in {directory}", timeout);
}
