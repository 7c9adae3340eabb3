using System.Runtime.CompilerServices;

namespace AbilisFast.Server.Diagnostics;

/// <summary>A copy of all counter values with the time they were last cleared.</summary>
internal readonly struct SmtpCountersSnapshot
{
    private readonly Values _values;

    internal SmtpCountersSnapshot(Values values, DateTimeOffset clearedAt)
    {
        _values = values;
        ClearedAt = clearedAt;
    }

    public DateTimeOffset ClearedAt { get; }

    /// <summary>The value, or null for a cell the console leaves blank.</summary>
    public long? this[SmtpCounter counter, Direction direction]
        => SmtpCounterInfo.HasCell(counter, direction) ? _values[SmtpCounters.CellIndex(counter, direction)] : null;

    [InlineArray(SmtpCounters.CellCount)]
    internal struct Values
    {
        private long _element;
    }
}
