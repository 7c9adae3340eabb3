using System.Text.Unicode;
using AbilisFast.Server.Diagnostics;

namespace AbilisFast.Server.Tests.Diagnostics;

public sealed class SessionLogAllocationTests
{
    private const int Iterations = 10_000;

    /// <summary>
    /// Bytes allocated by one round of <paramref name="round"/> once warmed up. Unoptimised (tier-0)
    /// JIT code boxes value-type holes that optimised code (tier-1, Native AOT) formats in place,
    /// so rounds are repeated, giving the tiering compiler a moment, until the optimised code runs.
    /// </summary>
    private static long SteadyStateAllocation(Action round)
    {
        long allocated = long.MaxValue;
        for (int attempt = 0; attempt < 40 && allocated != 0; attempt++)
        {
            round();
            long before = GC.GetAllocatedBytesForCurrentThread();
            round();
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated != 0)
            {
                Thread.Sleep(100);
            }
        }

        return allocated;
    }

    [Fact]
    public void Interpolated_write_allocates_nothing()
    {
        var log = new SessionLog(new FixedTimeProvider(new DateTimeOffset(2016, 8, 2, 14, 10, 25, TimeSpan.Zero)));
        uint id = 0x84A582F6;
        Assert.Equal(0, SteadyStateAllocation(() => Run(log, id)));

        static void Run(SessionLog log, uint id)
        {
            for (int i = 0; i < Iterations; i++)
            {
                log.Write(LogTag.Channel(i % 10), $"Delivering message: {id + (uint)i:X8} size {i} to {"mail.test.it"}");
            }
        }
    }

    [Fact]
    public void Utf8_try_write_into_a_stack_buffer_allocates_nothing()
    {
        var log = new SessionLog(new FixedTimeProvider(new DateTimeOffset(2016, 8, 2, 14, 10, 25, TimeSpan.Zero)));
        Assert.Equal(0, SteadyStateAllocation(() => Run(log)));

        static void Run(SessionLog log)
        {
            Span<byte> line = stackalloc byte[SessionLog.MaxLineLength];
            for (int i = 0; i < Iterations; i++)
            {
                Utf8.TryWrite(line, $"Receiving message: {i:X8}", out int written);
                log.Write(LogTag.In, line[..written]);
            }
        }
    }
}
