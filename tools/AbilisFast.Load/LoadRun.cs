using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace AbilisFast.Load;

/// <summary>
/// One load run: hands out the messages to the sessions (a count, or a deadline), prints the
/// progress line every second, times out stuck waits from the same heartbeat, and sums the
/// sessions' counters into the result.
/// <para>
/// Closed loop (default): each session starts its next message as soon as the last one ended, so a
/// slow server slows the client down with it. Open loop (--rate R): a pacer thread releases message
/// k at start + k/R by the clock, whatever the replies; an idle session takes it, and its latency
/// is counted from that scheduled time, so time spent waiting for a free session (the server being
/// slow) is counted too instead of being left out (coordinated omission). Messages still waiting
/// when the schedule plus --grace has run out are counted unsent, each with the time it had waited
/// as its (lower-bound) latency.
/// </para>
/// </summary>
internal sealed class LoadRun
{

    private readonly LoadSession[] _sessions;
    private long _remaining;
    private long _deadline;
    private long _number;
    private long _connections;
    private long _connectFailures;
    private volatile bool _stopped;
    private readonly Channel<long>? _slots;
    private readonly LatencyHistogram _lag = new();
    private long _start;
    private long _measureFrom;
    private long _unsent;
    private volatile bool _paced;

    public LoadRun(LoadOptions options, IPEndPoint endPoint)
    {
        Options = options;
        EndPoint = endPoint;
        PerConnection = options.PerConnection;
        _remaining = options.Messages;
        AcceptedIds = options.AcceptedIdsFile is { } file ? new AcceptedIdLog(file) : null;
        if (options.Rate > 0)
        {
            _slots = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleWriter = true });
        }

        var script = new LoadScript(options);
        _sessions = new LoadSession[options.Sessions];
        for (int i = 0; i < _sessions.Length; i++)
        {
            _sessions[i] = new LoadSession(this, script);
        }
    }

    public LoadOptions Options { get; }
    public IPEndPoint EndPoint { get; }
    public int PerConnection { get; }

    /// <summary>The --accepted-ids file, or null.</summary>
    public AcceptedIdLog? AcceptedIds { get; }

    /// <summary>True when a message started at <paramref name="start"/> counts in the latency figures (after --warmup).</summary>
    public bool Measured(long start) => start >= _measureFrom;

    /// <summary>True with --rate: messages are released by the clock (open loop).</summary>
    public bool OpenLoop => _slots is not null;

    /// <summary>
    /// Open loop: waits for the next message released by the pacer and returns its scheduled
    /// start (a Stopwatch timestamp); -1 when the schedule is over, or its grace has run out.
    /// </summary>
    public async ValueTask<long> NextSlotAsync()
    {
        ChannelReader<long> reader = _slots!.Reader;
        while (!_stopped)
        {
            if (reader.TryRead(out long due))
            {
                return due;
            }

            if (!await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                return -1;
            }
        }

        return -1;
    }

    /// <summary>Takes the right to start one more message; false when the count or the time is up.</summary>
    public bool TryClaim()
    {
        if (_stopped)
        {
            return false;
        }

        return Options.ByCount ? Interlocked.Decrement(ref _remaining) >= 0 : Stopwatch.GetTimestamp() < _deadline;
    }

    /// <summary>The number of the next message (its Subject: load N and Message-ID).</summary>
    public long NextNumber() => Interlocked.Increment(ref _number);

    public void CountConnection() => Interlocked.Increment(ref _connections);

    /// <summary>
    /// Counts a connection that could not be made (refused, timed out, or the greeting or HELO
    /// refused). It uses up the message it was for; when no connection at all has succeeded after
    /// many tries the run stops (the server is not there).
    /// </summary>
    public void CountConnectFailure()
    {
        long failures = Interlocked.Increment(ref _connectFailures);
        if (Volatile.Read(ref _connections) == 0 && failures >= Math.Max(10, 3L * Options.Sessions))
        {
            _stopped = true;
        }
    }

    /// <summary>A short pause before the next try, so a server that refuses is not hammered.</summary>
    public Task AfterConnectFailureAsync() => Task.Delay(Options.ByCount ? 10 : 100);

    /// <summary>Runs every session to the end and returns the totals.</summary>
    public async Task<LoadResult> RunAsync()
    {
        long start = Stopwatch.GetTimestamp();
        _start = start;
        _measureFrom = start + (long)(Options.Warmup.TotalSeconds * Stopwatch.Frequency);
        _deadline = start + (long)(Options.Duration.TotalSeconds * Stopwatch.Frequency);
        Thread? pacer = null;
        if (OpenLoop)
        {
            pacer = new Thread(Pace) { IsBackground = true, Name = "pacer", Priority = ThreadPriority.AboveNormal };
            pacer.Start();
        }

        Task[] tasks = new Task[_sessions.Length];
        for (int i = 0; i < _sessions.Length; i++)
        {
            LoadSession session = _sessions[i];
            tasks[i] = Task.Run(session.RunAsync);
        }

        Task all = Task.WhenAll(tasks);
        long timeoutTicks = (long)(Options.Timeout.TotalSeconds * Stopwatch.Frequency);
        long lastSent = 0;
        long lastTick = start;
        long graceTicks = (long)(Options.Grace.TotalSeconds * Stopwatch.Frequency);
        long pacedAt = 0;
        long lastBeat = start;
        while (await Task.WhenAny(all, Task.Delay(OpenLoop ? 100 : 1000)).ConfigureAwait(false) != all)
        {
            long now = Stopwatch.GetTimestamp();
            if (OpenLoop && _paced)
            {
                if (pacedAt == 0)
                {
                    pacedAt = now;
                }
                else if (now - pacedAt > graceTicks && !_stopped)
                {
                    _stopped = true; // the sessions finish what they started and take nothing more
                }
            }

            if (now - lastBeat < Stopwatch.Frequency * 9 / 10)
            {
                continue; // the heartbeat below stays once a second
            }

            lastBeat = now;

            foreach (LoadSession session in _sessions)
            {
                session.CheckTimeout(now, timeoutTicks);
            }

            if (!Options.Quiet)
            {
                long sent = 0;
                long errors = Volatile.Read(ref _connectFailures);
                foreach (LoadSession s in _sessions)
                {
                    sent += s.Messages;
                    errors += s.Dropped + s.Timeouts + s.Malformed;
                }

                double seconds = (now - lastTick) / (double)Stopwatch.Frequency;
                double rate = (sent - lastSent) / seconds;
                Console.Error.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{Stopwatch.GetElapsedTime(start).TotalSeconds,6:F1}s  sent {sent}  {rate:F0} msgs/s  errors {errors}"));
                lastSent = sent;
                lastTick = now;
            }
        }

        await all.ConfigureAwait(false);
        pacer?.Join();
        double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var latency = new LatencyHistogram();
        var accept = new LatencyHistogram();
        if (_slots is not null)
        {
            // Released but never started: counted unsent, each with the time it has waited.
            long end = Stopwatch.GetTimestamp();
            while (_slots.Reader.TryRead(out long due))
            {
                latency.Record((long)((end - due) * 1e6 / Stopwatch.Frequency));
                _unsent++;
            }
        }

        var result = new LoadResult
        {
            ElapsedSeconds = elapsed,
            Connections = Volatile.Read(ref _connections),
            ConnectFailures = Volatile.Read(ref _connectFailures),
        };
        foreach (LoadSession s in _sessions)
        {
            result.Messages += s.Messages;
            result.Accepted += s.Accepted;
            result.Replies2xx += s.Replies2xx;
            result.Replies4xx += s.Replies4xx;
            result.Replies5xx += s.Replies5xx;
            result.Dropped += s.Dropped;
            result.Timeouts += s.Timeouts;
            result.Malformed += s.Malformed;
            latency.Add(s.Latency);
            accept.Add(s.AcceptLatency);
        }

        result.Latency = latency;
        result.Accept = accept;
        result.Unsent = _unsent;
        result.OfferedPerSecond = Options.Rate;
        result.LagP99Ms = _lag.ValueAt(99) / 1000.0;
        return result;
    }

    /// <summary>
    /// The pacer (open loop): releases message k at start + k/rate. It sleeps until the next
    /// release with the thread's timer slack set to 1 µs (the default 50 µs would make every wake-up
    /// late), releasing every message whose time has come at each wake-up; how late each one was is
    /// kept (lag_p99_ms in the report).
    /// </summary>
    private void Pace()
    {
        _ = PrCtl(PrSetTimerSlack, 1, 0, 0, 0);
        ChannelWriter<long> writer = _slots!.Writer;
        double ticksPerMessage = Stopwatch.Frequency / Options.Rate;
        long total = Options.ByCount ? Options.Messages : Math.Max(1, (long)(Options.Duration.TotalSeconds * Options.Rate));
        double microsPerTick = 1e6 / Stopwatch.Frequency;
        for (long k = 0; k < total && !_stopped; k++)
        {
            long due = _start + (long)(k * ticksPerMessage);
            long wait = due - Stopwatch.GetTimestamp();
            while (wait > 0)
            {
                _ = USleep((uint)Math.Max(1, Math.Min(wait * microsPerTick, 10_000)));
                wait = due - Stopwatch.GetTimestamp();
            }

            if (due >= _measureFrom)
            {
                _lag.Record((long)(-wait * microsPerTick));
            }

            writer.TryWrite(due);
        }

        _paced = true;
        writer.TryComplete();
    }

    private const int PrSetTimerSlack = 29;

    [DllImport("libc", EntryPoint = "prctl")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int PrCtl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [DllImport("libc", EntryPoint = "usleep")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int USleep(uint microseconds);
}

/// <summary>What a run did, as printed at the end.</summary>
internal sealed class LoadResult
{
    /// <summary>Transactions started (MAIL sent), whatever became of them.</summary>
    public long Messages { get; set; }

    /// <summary>Messages with a 2xx reply after the final dot.</summary>
    public long Accepted { get; set; }

    public double ElapsedSeconds { get; set; }

    /// <summary>
    /// Per message, from its start to the reply after the final dot: closed loop, from MAIL sent;
    /// open loop, from the message's scheduled start (waiting for a free session included).
    /// </summary>
    public LatencyHistogram Latency { get; set; } = new();

    /// <summary>Per message, from the final dot written to the reply after it (the server's accept).</summary>
    public LatencyHistogram Accept { get; set; } = new();

    /// <summary>Open loop: messages released by the schedule that no session started in time.</summary>
    public long Unsent { get; set; }

    /// <summary>Open loop: --rate; 0 for a closed loop.</summary>
    public double OfferedPerSecond { get; set; }

    /// <summary>Open loop: how late the pacer released its messages, 99th percentile, in ms.</summary>
    public double LagP99Ms { get; set; }

    public double P50Ms => Latency.ValueAt(50) / 1000.0;
    public double P90Ms => Latency.ValueAt(90) / 1000.0;
    public double P99Ms => Latency.ValueAt(99) / 1000.0;
    public double P999Ms => Latency.ValueAt(99.9) / 1000.0;

    /// <summary>2xx replies after the final dot.</summary>
    public long Replies2xx { get; set; }

    /// <summary>4xx replies: after the final dot, or refusing MAIL, RCPT, DATA or the greeting.</summary>
    public long Replies4xx { get; set; }

    /// <summary>5xx replies: after the final dot, or refusing MAIL, RCPT, DATA or the greeting.</summary>
    public long Replies5xx { get; set; }

    public long Connections { get; set; }
    public long ConnectFailures { get; set; }
    public long Dropped { get; set; }
    public long Timeouts { get; set; }
    public long Malformed { get; set; }

    public long Errors => ConnectFailures + Dropped + Timeouts + Malformed;

    /// <summary>Transactions completed per second (accepted or not).</summary>
    public double MessagesPerSecond => ElapsedSeconds > 0 ? Messages / ElapsedSeconds : 0;
}
