using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace AbilisFast.Server.Service;

/// <summary>
/// The systemd notification protocol (sd_notify), without libsystemd: one datagram of
/// <c>NAME=VALUE</c> lines to the unix socket named by <c>NOTIFY_SOCKET</c> (a name starting with
/// '@' is in the abstract namespace). <c>READY=1</c> once both ports accept, <c>RELOADING=1</c> …
/// <c>READY=1</c> around a SIGHUP reload, <c>STOPPING=1</c> at shutdown, and <c>WATCHDOG=1</c> from
/// the session heartbeat when <c>WATCHDOG_USEC</c> asks for it. Outside systemd
/// (<c>NOTIFY_SOCKET</c> unset) <see cref="FromEnvironment"/> returns null and nothing is sent.
/// A failed send is ignored: notifications never stop the server.
/// </summary>
internal sealed class SystemdNotifier : IDisposable
{
    private static readonly byte[] WatchdogPing = "WATCHDOG=1"u8.ToArray();

    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _endPoint;
    private readonly Lock _lock = new();
    private readonly long _watchdogIntervalTicks;
    private long _lastPing;

    private SystemdNotifier(Socket socket, UnixDomainSocketEndPoint endPoint, TimeSpan? watchdog)
    {
        _socket = socket;
        _endPoint = endPoint;
        WatchdogTimeout = watchdog;
        _watchdogIntervalTicks = watchdog is { } w ? (long)(w.TotalSeconds / 2 * Stopwatch.Frequency) : 0;
    }

    /// <summary>WATCHDOG_USEC when it applies to this process (WATCHDOG_PID absent or ours); null otherwise.</summary>
    public TimeSpan? WatchdogTimeout { get; }

    /// <summary>
    /// How often the heartbeat that pings the watchdog should run: half the watchdog timeout, at
    /// most one second (the session heartbeat's own period).
    /// </summary>
    public TimeSpan HeartbeatPeriod =>
        WatchdogTimeout is { } w && w / 2 < TimeSpan.FromSeconds(1) ? w / 2 : TimeSpan.FromSeconds(1);

    /// <summary>The notifier for <c>NOTIFY_SOCKET</c>, or null when it is unset or unusable.</summary>
    public static SystemdNotifier? FromEnvironment() =>
        Create(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"),
            Environment.GetEnvironmentVariable("WATCHDOG_USEC"),
            Environment.GetEnvironmentVariable("WATCHDOG_PID"),
            Environment.ProcessId);

    /// <summary>Builds a notifier from the variables' values (a test seam for the parsing).</summary>
    internal static SystemdNotifier? Create(string? notifySocket, string? watchdogUsec, string? watchdogPid, int processId)
    {
        if (string.IsNullOrEmpty(notifySocket) || (notifySocket[0] != '/' && notifySocket[0] != '@'))
        {
            return null;
        }

        TimeSpan? watchdog = null;
        if (ulong.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec) && usec > 0
            && (string.IsNullOrEmpty(watchdogPid)
                || (int.TryParse(watchdogPid, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid == processId)))
        {
            watchdog = TimeSpan.FromMicroseconds(usec);
        }

        // The abstract namespace: '@' stands for the leading NUL byte.
        string path = notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket;
        Socket? socket = null;
        try
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            return new SystemdNotifier(socket, new UnixDomainSocketEndPoint(path), watchdog);
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            socket?.Dispose();
            return null;
        }
    }

    /// <summary><c>READY=1</c> with <c>MAINPID</c> and a status line.</summary>
    public void Ready(string status) =>
        Send($"READY=1\nMAINPID={Environment.ProcessId}\nSTATUS={status}");

    /// <summary><c>RELOADING=1</c> with <c>MONOTONIC_USEC</c> (Type=notify-reload wants both).</summary>
    public void Reloading() =>
        Send($"RELOADING=1\nMONOTONIC_USEC={MonotonicMicroseconds()}\nSTATUS=reloading the configuration");

    /// <summary><c>STOPPING=1</c>.</summary>
    public void Stopping() => Send("STOPPING=1\nSTATUS=stopping");

    /// <summary><c>STATUS=</c> alone.</summary>
    public void Status(string status) => Send($"STATUS={status}");

    /// <summary>
    /// Called by the session heartbeat: sends <c>WATCHDOG=1</c> when half the watchdog timeout has
    /// passed since the last ping. A server whose heartbeat is stuck stops pinging, and systemd
    /// restarts it.
    /// </summary>
    public void Heartbeat()
    {
        if (_watchdogIntervalTicks == 0)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        long last = Volatile.Read(ref _lastPing);

        // Allow one heartbeat period of slack, so a ping is never a whole period late.
        long slack = (long)(HeartbeatPeriod.TotalSeconds * Stopwatch.Frequency) / 2;
        if (last != 0 && now - last < _watchdogIntervalTicks - slack)
        {
            return;
        }

        Volatile.Write(ref _lastPing, now);
        Send(WatchdogPing);
    }

    /// <summary>CLOCK_MONOTONIC in microseconds (what Stopwatch reads on Linux).</summary>
    private static long MonotonicMicroseconds()
    {
        long ticks = Stopwatch.GetTimestamp();
        return (ticks / Stopwatch.Frequency * 1_000_000) + (ticks % Stopwatch.Frequency * 1_000_000 / Stopwatch.Frequency);
    }

    private void Send(string state) => Send(Encoding.UTF8.GetBytes(state));

    private void Send(byte[] datagram)
    {
        lock (_lock)
        {
            try
            {
                _socket.SendTo(datagram, SocketFlags.None, _endPoint);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // systemd gone or the socket unusable: the server runs on regardless.
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
