namespace AbilisFast.Server.Tests.Diagnostics;

public sealed class SessionLogFormatTests
{
    private static readonly DateTimeOffset Start = new(2016, 8, 2, 14, 10, 25, TimeSpan.Zero);

    [Fact]
    public void Lines_match_the_appliance_format()
    {
        var time = new FakeTimeProvider(Start);
        var log = new SessionLog(time);

        log.Write(LogTag.Port, "Starting server...");
        time.SetUtcNow(Start.AddSeconds(7));
        log.Write(LogTag.In, "Receiving message: 84A582F6"u8);
        log.Write(LogTag.Channel(0), "Waiting events (listen or wake-up)");
        log.Write(LogTag.Channel(12), "twelve");
        log.Write(LogTag.Channel(1234), "wide");

        Assert.Equal(
            [
                "02/08 14:10:25 [PORT] Starting server...",
                "02/08 14:10:32 [IN]  Receiving message: 84A582F6",
                "02/08 14:10:32 [  0] Waiting events (listen or wake-up)",
                "02/08 14:10:32 [ 12] twelve",
                "02/08 14:10:32 [1234] wide",
            ],
            log.ReadLines());
    }

    [Fact]
    public void Interpolated_write_formats_holes_invariantly()
    {
        var log = new SessionLog(new FakeTimeProvider(Start));
        uint id = 0x84A582F7;
        double size = 1.5;

        log.Write(LogTag.Channel(1), $"Delivering message: {id:X8} size {size} from {"a@b.it"} raw {"x"u8}");

        Assert.Equal("02/08 14:10:25 [  1] Delivering message: 84A582F7 size 1.5 from a@b.it raw x", Assert.Single(log.ReadLines()));
    }

    [Fact]
    public void Local_time_comes_from_the_time_provider_zone()
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("plus2", TimeSpan.FromHours(2), "plus2", "plus2");
        var log = new SessionLog(Zoned(Start, zone));

        log.Write(LogTag.Port, "x");

        Assert.Equal("02/08 16:10:25 [PORT] x", Assert.Single(log.ReadLines()));
    }

    [Fact]
    public void Copy_to_writes_crlf_terminated_lines()
    {
        var log = new SessionLog(new FakeTimeProvider(Start));
        log.Write(LogTag.Port, "a");
        log.Write(LogTag.In, "b");
        var output = new System.Buffers.ArrayBufferWriter<byte>();

        int written = log.CopyTo(output);

        Assert.Equal("02/08 14:10:25 [PORT] a\r\n02/08 14:10:25 [IN]  b\r\n", System.Text.Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal(output.WrittenCount, written);
        Assert.Equal(log.SnapshotText(), System.Text.Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Cr_lf_and_controls_are_replaced_so_a_record_is_one_line()
    {
        var log = new SessionLog(new FakeTimeProvider(Start));

        log.Write(LogTag.Channel(3), "RCPT TO:<a@b>\r\nDATA\n\0end");
        log.Write(LogTag.Channel(3), [(byte)'b', (byte)'\r', (byte)'\n', 0xFF, 0xC3, 0xA9]); // 0xFF is never UTF-8

        Assert.Equal(
            ["02/08 14:10:25 [  3] RCPT TO:<a@b>  DATA ?end", "02/08 14:10:25 [  3] b  ?é"],
            log.ReadLines());
    }

    [Fact]
    public void Long_lines_are_truncated_to_the_cap_at_a_character_boundary()
    {
        var log = new SessionLog(new FakeTimeProvider(Start));

        log.Write(LogTag.Channel(0), new string('x', 1000));
        log.Write(LogTag.Channel(0), new string('é', 1000)); // two bytes each
        log.Write(LogTag.Channel(0), $"{new string('y', 360)}{12345678}{new string('z', 50)}");

        IReadOnlyList<string> lines = log.ReadLines();
        Assert.Equal(SessionLog.MaxLineLength, lines[0].Length);
        Assert.EndsWith("xxx", lines[0], StringComparison.Ordinal);
        Assert.Equal(SessionLog.MaxLineLength - 1, System.Text.Encoding.UTF8.GetByteCount(lines[1])); // 21 + 378 bytes
        Assert.DoesNotContain('\uFFFD', lines[1]);
        Assert.Equal(SessionLog.MaxLineLength, lines[2].Length);
        Assert.EndsWith("y12345678" + new string('z', 11), lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Verbose_flag_round_trips()
    {
        var log = new SessionLog();
        Assert.False(log.Verbose);
        log.Verbose = true;
        Assert.True(log.Verbose);
        log.Verbose = false;
        Assert.False(log.Verbose);
    }

    [Fact]
    public void Tags_describe_themselves()
    {
        Assert.Equal("[  7]", LogTag.Channel(7).ToString());
        Assert.Equal("[IN] ", LogTag.In.ToString());
        Assert.Equal("[PORT]", LogTag.Port.ToString());
        Assert.True(LogTag.Channel(7).IsChannel);
        Assert.Equal(7, LogTag.Channel(7).ChannelNumber);
        Assert.True(LogTag.In.IsIn);
        Assert.True(LogTag.Port.IsPort);
        Assert.Throws<ArgumentOutOfRangeException>(() => LogTag.Channel(-1));
    }

    private static FakeTimeProvider Zoned(DateTimeOffset now, TimeZoneInfo zone)
    {
        var time = new FakeTimeProvider(now);
        time.SetLocalTimeZone(zone);
        return time;
    }
}
