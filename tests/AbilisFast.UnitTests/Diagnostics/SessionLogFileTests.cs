namespace AbilisFast.Server.Tests.Diagnostics;

/// <summary>LOG:YES: the session log's file copy, its batching and its rotation, over real files.</summary>
public sealed class SessionLogFileTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly TempDir _dir = new();
    private readonly SessionLog _log = new(new FakeTimeProvider(Start));
    private SmtpSettings _settings = SmtpSettings.Default with { Log = true, LogMaxSizeKiB = 16, LogFiles = 3 };

    private string LogDir => Path.Combine(_dir.Path, "log");

    private SessionLogFile NewFile() => new(_log, LogDir, () => _settings, _ => { });

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_file_holds_exactly_the_rings_lines()
    {
        SessionLogFile file = NewFile();
        for (int i = 0; i < 50; i++)
        {
            _log.Write(LogTag.Channel(i % 10), $"line {i} é");
        }

        file.Poll(force: true);

        string[] written = File.ReadAllLines(file.FilePath, Encoding.UTF8);
        Assert.Equal(_log.ReadLines(), written);
        Assert.Equal(50, written.Length);
        Assert.Equal("01/03 09:00:00 [  9] line 49 é", written[^1]);
    }

    [Fact]
    public void Lines_wait_for_the_batch_and_are_written_once()
    {
        var time = new FakeTimeProvider(Start);
        var log = new SessionLog(time);
        var file = new SessionLogFile(log, LogDir, () => _settings, _ => { }, time);
        log.Write(LogTag.Port, "first");
        file.Poll();
        Assert.False(File.Exists(file.FilePath)); // under a second and under 64 KiB: still pending

        time.Advance(SessionLogFile.FlushInterval);
        file.Poll();
        Assert.Equal(["01/03 09:00:00 [PORT] first"], File.ReadAllLines(file.FilePath));

        log.Write(LogTag.Port, "second");
        time.Advance(SessionLogFile.FlushInterval);
        file.Poll();
        file.Poll(force: true);
        Assert.Equal(["01/03 09:00:00 [PORT] first", "01/03 09:00:01 [PORT] second"], File.ReadAllLines(file.FilePath));
    }

    [Fact]
    public void Rotation_at_the_cap_keeps_LOG_FILES_files_and_the_newest_lines_in_order()
    {
        SessionLogFile file = NewFile();
        var all = new List<string>();
        for (int i = 0; i < 1000; i++)
        {
            _log.Write(LogTag.Channel(1), $"message {i:D4} {new string('x', 60)}");
            all.Add($"01/03 09:00:00 [  1] message {i:D4} {new string('x', 60)}");
            if (i % 50 == 49)
            {
                file.Poll(force: true);
            }
        }

        string[] names = Directory.GetFiles(LogDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Assert.Equal(["smtp.log", "smtp.log.1", "smtp.log.2"], names);
        long cap = 16 * 1024;
        var kept = new List<string>();
        foreach (string name in (string[])["smtp.log.2", "smtp.log.1", "smtp.log"])
        {
            string path = Path.Combine(LogDir, name);
            Assert.InRange(new FileInfo(path).Length, 1, cap);
            string text = File.ReadAllText(path);
            Assert.EndsWith("\n", text, StringComparison.Ordinal);
            kept.AddRange(File.ReadAllLines(path));
        }

        // The rotated files are full up to a line: the next line would have passed the cap.
        Assert.True(new FileInfo(Path.Combine(LogDir, "smtp.log.1")).Length > cap - 100);

        // Together they hold the newest lines written, consecutive and whole.
        Assert.Equal(all.TakeLast(kept.Count), kept);
        Assert.EndsWith("message 0999 " + new string('x', 60), kept[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void LOG_NO_writes_nothing_and_switching_it_on_starts_at_the_next_line()
    {
        _settings = _settings with { Log = false };
        SessionLogFile file = NewFile();
        _log.Write(LogTag.Port, "while off");
        file.Poll(force: true);
        Assert.False(Directory.Exists(LogDir));

        _settings = _settings with { Log = true };
        file.Poll(force: true);
        _log.Write(LogTag.Port, "while on");
        file.Poll(force: true);
        Assert.Equal(["01/03 09:00:00 [PORT] while on"], File.ReadAllLines(file.FilePath));
    }

    [Fact]
    public void A_writer_that_fell_a_whole_ring_behind_marks_the_gap()
    {
        SessionLogFile file = NewFile();
        _log.Write(LogTag.Port, "seen");
        file.Poll(force: true);
        for (int i = 0; i < 2000; i++)
        {
            _log.Write(LogTag.Port, $"burst {i}");
        }

        file.Poll(force: true);
        string[] lines = Directory.GetFiles(LogDir).Order(StringComparer.Ordinal).Reverse().SelectMany(File.ReadAllLines).ToArray();
        Assert.Equal("01/03 09:00:00 [PORT] seen", lines[0]);
        Assert.StartsWith("-- session log lines lost", lines[1], StringComparison.Ordinal);
        Assert.Equal(_log.ReadLines(), lines[2..]);
    }
}
