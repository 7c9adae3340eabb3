namespace AbilisFast.Server.Diagnostics;

internal sealed partial class SessionLog
{
    private readonly TimeProvider _time;

    /// <summary>The formatted prefix of the current second, replaced (not mutated) when the second changes.</summary>
    private Stamp? _stamp;

    /// <summary>
    /// Returns "DD/MM HH:MM:SS " in local time for the current second. Writers share one immutable
    /// <see cref="Stamp"/>; the first writer to see a new second formats it and publishes it with a
    /// release store. Racing writers may each format the same second once; any of them is correct.
    /// </summary>
    private ReadOnlySpan<byte> GetPrefix()
    {
        DateTimeOffset utcNow = _time.GetUtcNow();
        long second = utcNow.UtcTicks / TimeSpan.TicksPerSecond;
        Stamp? stamp = Volatile.Read(ref _stamp);
        if (stamp is null || stamp.Second != second)
        {
            stamp = new Stamp(second, FormatPrefix(utcNow));
            Volatile.Write(ref _stamp, stamp);
        }

        return stamp.Prefix;
    }

    private byte[] FormatPrefix(DateTimeOffset utcNow)
    {
        DateTime local = TimeZoneInfo.ConvertTime(utcNow, _time.LocalTimeZone).DateTime;
        var prefix = new byte[PrefixLength];
        WriteTwoDigits(prefix, 0, local.Day);
        prefix[2] = (byte)'/';
        WriteTwoDigits(prefix, 3, local.Month);
        prefix[5] = (byte)' ';
        WriteTwoDigits(prefix, 6, local.Hour);
        prefix[8] = (byte)':';
        WriteTwoDigits(prefix, 9, local.Minute);
        prefix[11] = (byte)':';
        WriteTwoDigits(prefix, 12, local.Second);
        prefix[14] = (byte)' ';
        return prefix;
    }

    private static void WriteTwoDigits(byte[] destination, int at, int value)
    {
        destination[at] = (byte)('0' + (value / 10));
        destination[at + 1] = (byte)('0' + (value % 10));
    }

    private sealed class Stamp(long second, byte[] prefix)
    {
        public long Second { get; } = second;

        public byte[] Prefix { get; } = prefix;
    }
}
