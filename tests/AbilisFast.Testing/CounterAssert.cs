namespace AbilisFast.Server.Tests.Support;

/// <summary>The SMTP counters of one direction compared as a line of console labels and values.</summary>
internal static class CounterAssert
{
    /// <summary>
    /// Checks the counters that <paramref name="expected"/> names, e.g. "EXT-SUCC:1 EXT-FAIL:0"
    /// (the labels of <c>d s smtp</c>), in <paramref name="direction"/>: all of them at once, so that a
    /// failure shows every value, expected and actual, in one line.
    /// </summary>
    public static void Equal(string expected, SmtpCounters counters, Direction direction)
    {
        IEnumerable<string> actual = expected.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(item =>
        {
            string label = item[..item.IndexOf(':', StringComparison.Ordinal)];
            SmtpCounter counter = Enum.GetValues<SmtpCounter>().Single(c => SmtpCounterInfo.Label(c) == label);
            return label + ":" + counters.Get(counter, direction).ToString(CultureInfo.InvariantCulture);
        });
        Assert.Equal(expected, string.Join(' ', actual));
    }
}
