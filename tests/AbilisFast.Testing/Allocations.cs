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
}
