namespace AbilisFast.Server.Tests.Diagnostics;

public sealed partial class SessionLogRingTests
{
    private static readonly DateTimeOffset Start = new(2016, 8, 2, 14, 10, 25, TimeSpan.Zero);

    [GeneratedRegex(@"^\d\d/\d\d \d\d:\d\d:\d\d \[ *(\d+)\] seq (\d+) (x*)$")]
    private static partial Regex SequencedLine();

    [GeneratedRegex(@"^\d\d/\d\d \d\d:\d\d:\d\d \[ *(\d+)\] w(\d) s(\d+) (x*)$")]
    private static partial Regex WriterLine();

    [Fact]
    public void Wrapping_keeps_only_whole_lines_in_order_ending_with_the_newest()
    {
        var log = new SessionLog(new FakeTimeProvider(Start));
        const int Count = 20_000; // lines of varying length: many laps of the ring

        for (int i = 0; i < Count; i++)
        {
            log.Write(LogTag.Channel(i % 1000), $"seq {i} {Padding(i)}");
        }

        string text = log.SnapshotText();
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(text) <= SessionLog.BufferLength);
        IReadOnlyList<string> lines = log.ReadLines();
        Assert.True(lines.Count > 500, $"only {lines.Count} lines kept");
        int expected = Count - lines.Count;
        foreach (string line in lines)
        {
            Match match = SequencedLine().Match(line);
            Assert.True(match.Success, line);
            int seq = int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(expected++, seq); // consecutive: nothing lost between the oldest kept and the newest
            Assert.Equal(seq % 1000, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(Padding(seq), match.Groups[3].Value);
        }

        Assert.Equal(Count, expected);
    }

    [Fact]
    public void Ring_retains_close_to_its_capacity()
    {
        var log = new SessionLog(new FakeTimeProvider(Start));
        for (int i = 0; i < 5000; i++)
        {
            log.Write(LogTag.Channel(1), $"seq {i} {Padding(i)}");
        }

        int size = System.Text.Encoding.UTF8.GetByteCount(log.SnapshotText());
        Assert.InRange(size, SessionLog.BufferLength * 3 / 4, SessionLog.BufferLength);
    }

    [Fact]
    public void Clear_hides_earlier_lines_only()
    {
        var log = new SessionLog(new FakeTimeProvider(Start));
        for (int i = 0; i < 3000; i++)
        {
            log.Write(LogTag.Channel(1), $"seq {i} ");
        }

        log.Clear();
        Assert.Empty(log.ReadLines());

        log.Write(LogTag.Channel(1), "seq 3000 ");
        log.Write(LogTag.Channel(1), "seq 3001 ");
        Assert.Equal(2, log.ReadLines().Count);

        log.Clear();
        log.Clear();
        Assert.Empty(log.ReadLines());
    }

    [Fact]
    public void Clear_while_writing_never_shows_lines_from_before_the_clear()
    {
        var log = new SessionLog(new FakeTimeProvider(Start));
        long cleared = -1;
        long written = -1; // the last line completely written; none yet (0 would claim line 0 was done before it was)
        using var done = new ManualResetEventSlim();
        var writer = new Thread(() =>
        {
            for (int i = 0; i < 200_000 && !done.IsSet; i++)
            {
                log.Write(LogTag.Channel(0), $"seq {i} ");
                Volatile.Write(ref written, i);
            }
        });
        writer.Start();

        for (int round = 0; round < 50; round++)
        {
            // Every line completed before Clear() must disappear.
            long before = Volatile.Read(ref written);
            log.Clear();
            cleared = before;
            foreach (string line in log.ReadLines())
            {
                Match match = SequencedLine().Match(line);
                Assert.True(match.Success, line);
                Assert.True(long.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) > cleared, line);
            }
        }

        done.Set();
        writer.Join();
    }

    [Fact]
    public void Concurrent_writers_and_a_reader_see_whole_ordered_lines()
    {
        var log = new SessionLog();
        const int Writers = 8;
        const int MaxLinesPerWriter = 1_000_000;
        const int Snapshots = 300;
        int stop = 0;
        var lastWritten = new int[Writers];
        using var started = new CountdownEvent(Writers);
        var threads = new Thread[Writers];
        for (int w = 0; w < Writers; w++)
        {
            int id = w;
            threads[w] = new Thread(() =>
            {
                started.Signal();
                int s = 0;
                // Writers keep going until the reader has taken all its snapshots (bounded anyway).
                for (; s < MaxLinesPerWriter && Volatile.Read(ref stop) == 0; s++)
                {
                    log.Write(LogTag.Channel(id * 100 + (s % 100)), $"w{id} s{s} {Padding(s)}");
                }

                lastWritten[id] = s - 1;
            });
        }

        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        started.Wait();
        int linesChecked = 0;
        for (int i = 0; i < Snapshots; i++)
        {
            linesChecked += CheckSnapshot(log.SnapshotText(), out _);
        }

        Volatile.Write(ref stop, 1);
        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        Assert.True(linesChecked > 0);
        CheckSnapshot(log.SnapshotText(), out int[] last);
        // Quiescent: the newest line of the writer that finished last is present (all of them, in
        // fact, unless a writer stopped long enough before the others to be overwritten).
        Assert.Contains(Enumerable.Range(0, Writers), w => last[w] == lastWritten[w]);

        static int CheckSnapshot(string text, out int[] last)
        {
            Assert.True(System.Text.Encoding.UTF8.GetByteCount(text) <= SessionLog.BufferLength);
            Assert.True(text.Length == 0 || text.EndsWith("\r\n", StringComparison.Ordinal));
            last = new int[Writers];
            Array.Fill(last, -1);
            string[] lines = text.Split("\r\n");
            for (int i = 0; i < lines.Length - 1; i++)
            {
                Match match = WriterLine().Match(lines[i]);
                Assert.True(match.Success, lines[i]);
                int channel = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                int writer = match.Groups[2].Value[0] - '0';
                int seq = int.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal(writer * 100 + (seq % 100), channel);
                Assert.Equal(Padding(seq), match.Groups[4].Value);
                Assert.True(seq > last[writer], $"writer {writer}: {seq} after {last[writer]}");
                last[writer] = seq;
            }

            return lines.Length - 1;
        }
    }

    private static string Padding(int seq) => new('x', (seq * 37) % 120);
}
