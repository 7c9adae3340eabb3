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
        var log = new SessionLog(new FakeTimeProvider(new DateTimeOffset(2016, 8, 2, 14, 10, 25, TimeSpan.Zero)));
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

    /// <summary>
    /// The pattern the sessions use: the text formatted by hand (IUtf8SpanFormattable.TryFormat) into
    /// a stack buffer. Utf8.TryWrite is not used for this: its BCL handler boxes value holes until the
    /// tiering compiler has optimised the caller, which on a loaded CI machine took longer than 4 s.
    /// </summary>
    [Fact]
    public void Formatting_into_a_stack_buffer_allocates_nothing()
    {
        var log = new SessionLog(new FakeTimeProvider(new DateTimeOffset(2016, 8, 2, 14, 10, 25, TimeSpan.Zero)));
        Assert.Equal(0, SteadyStateAllocation(() => Run(log)));

        static void Run(SessionLog log)
        {
            Span<byte> line = stackalloc byte[SessionLog.MaxLineLength];
            for (int i = 0; i < Iterations; i++)
            {
                "Receiving message: "u8.CopyTo(line);
                ((uint)i).TryFormat(line[19..], out int written, "X8", System.Globalization.CultureInfo.InvariantCulture);
                log.Write(LogTag.In, line[..(19 + written)]);
            }
        }
    }
}
