using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace AbilisFast.Load;

/// <summary>
/// One load run: hands out the messages to the sessions (a count, or a deadline), prints the
/// progress line every second, times out stuck waits from the same heartbeat, and sums the
/// sessions' counters into the result.
/// </summary>
internal sealed class LoadRun
{
    /// <summary>How long a session waits for a connection or a reply before giving up on it.</summary>
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(30);

    private readonly LoadSession[] _sessions;
    private long _remaining;
    private long _deadline;
    private long _number;
    private long _connections;
    private long _connectFailures;
    private volatile bool _stopped;

    public LoadRun(LoadOptions options, IPEndPoint endPoint)
    {
        Options = options;
        EndPoint = endPoint;
        PerConnection = options.PerConnection;
        _remaining = options.Messages;
        AcceptedIds = options.AcceptedIdsFile is { } file ? new AcceptedIdLog(file) : null;
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
        _deadline = start + (long)(Options.Duration.TotalSeconds * Stopwatch.Frequency);
        Task[] tasks = new Task[_sessions.Length];
        for (int i = 0; i < _sessions.Length; i++)
        {
            LoadSession session = _sessions[i];
            tasks[i] = Task.Run(session.RunAsync);
        }

        Task all = Task.WhenAll(tasks);
        long timeoutTicks = (long)(WaitTimeout.TotalSeconds * Stopwatch.Frequency);
        long lastSent = 0;
        long lastTick = start;
        while (await Task.WhenAny(all, Task.Delay(1000)).ConfigureAwait(false) != all)
        {
            long now = Stopwatch.GetTimestamp();
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
        double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var latency = new LatencyHistogram();
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
        }

        result.P50Ms = latency.ValueAt(50) / 1000.0;
        result.P99Ms = latency.ValueAt(99) / 1000.0;
        result.P999Ms = latency.ValueAt(99.9) / 1000.0;
        return result;
    }
}

/// <summary>What a run did, as printed at the end.</summary>
internal sealed class LoadResult
{
    /// <summary>Transactions started (MAIL sent), whatever became of them.</summary>
    public long Messages { get; set; }

    /// <summary>Messages with a 2xx reply after the final dot.</summary>
    public long Accepted { get; set; }

    public double ElapsedSeconds { get; set; }
    public double P50Ms { get; set; }
    public double P99Ms { get; set; }
    public double P999Ms { get; set; }

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
