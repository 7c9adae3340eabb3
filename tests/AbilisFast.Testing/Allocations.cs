namespace AbilisFast.Server.Tests.Support;

/// <summary>Allocation budgets measured on the current thread.</summary>
internal static class Allocations
{
    /// <summary>
    /// The bytes the current thread allocates running <paramref name="body"/>, the least of
    /// <paramref name="rounds"/> rounds: a one-off allocation of the runtime (a tier-up or OSR
    /// transition under CI load) shows in one round only, an allocation of the code under test in
    /// every round.
    /// </summary>
    public static long LeastOf(int rounds, Action body)
    {
        long least = long.MaxValue;
        for (int round = 0; round < rounds; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            body();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }

    /// <summary>
    /// The bytes <paramref name="iterations"/> calls of <paramref name="step"/> allocate once warm:
    /// <paramref name="warmUp"/> calls first (tiering, first-use caches), then the least of
    /// <paramref name="rounds"/> rounds (<see cref="LeastOf"/>). <paramref name="total"/> is the sum
    /// of what every call returned, warm-up included, so that a test can check the work was done.
    /// </summary>
    public static long InSteadyState(int iterations, Func<int> step, out long total, int warmUp = 100, int rounds = 3)
    {
        long sum = 0;
        for (int i = 0; i < warmUp; i++)
        {
            sum += step();
        }

        long least = LeastOf(rounds, () =>
        {
            for (int i = 0; i < iterations; i++)
            {
                sum += step();
            }
        });
        total = sum;
        return least;
    }
}
