namespace AbilisFast.Server.Tests.Service;

/// <summary>
/// The systemd notification protocol against the real executable: the test plays systemd, binding
/// the datagram socket that NOTIFY_SOCKET names.
/// </summary>
[Collection("EndToEnd")]
public sealed class SystemdNotifyTests
{
    [Fact]
    public async Task Ready_comes_once_both_ports_accept_then_watchdog_pings_and_stopping_on_SIGTERM()
    {
        string name = "abilisfast-test-" + Guid.NewGuid().ToString("N")[..12];
        using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        systemd.Bind(new UnixDomainSocketEndPoint("\0" + name)); // abstract: NOTIFY_SOCKET=@name
        var environment = new Dictionary<string, string> { ["NOTIFY_SOCKET"] = "@" + name, ["WATCHDOG_USEC"] = "2000000" };
        int port = ServerProcess.FreePort();
        int adminPort = ServerProcess.FreePort();

        // Started without waiting for the "listening" line: READY must come on its own.
        Task<ServerProcess> starting = ServerProcess.StartWithEnvironmentAsync(environment, null, port, adminPort);
        string ready = await ReceiveAsync(systemd, "READY=1");

        // At the moment READY arrives, both ports accept connections: SMTP greets.
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            var greeting = new byte[256];
            int n = await client.GetStream().ReadAsync(greeting);
            Assert.StartsWith("220 ", Encoding.ASCII.GetString(greeting, 0, n), StringComparison.Ordinal);
        }

        using (var admin = new TcpClient())
        {
            await admin.ConnectAsync(IPAddress.Loopback, adminPort);
        }

        using ServerProcess server = await starting;
        Assert.Contains($"MAINPID={server.Pid}", ready.Split('\n'));
        Assert.Contains($"STATUS=listening on port {port}", ready, StringComparison.Ordinal);

        // WATCHDOG_USEC=2 s: a ping at least every second from the heartbeat.
        Assert.Equal("WATCHDOG=1", await ReceiveAsync(systemd, "WATCHDOG=1"));
        Assert.Equal("WATCHDOG=1", await ReceiveAsync(systemd, "WATCHDOG=1"));

        await server.SignalAsync("HUP");
        string reloading = await ReceiveAsync(systemd, "RELOADING=1");
        Assert.Matches(@"(^|\n)MONOTONIC_USEC=\d+(\n|$)", reloading);
        Assert.StartsWith("READY=1", await ReceiveAsync(systemd, "READY=1"), StringComparison.Ordinal);

        await server.SignalAsync("TERM");
        Assert.StartsWith("STOPPING=1", await ReceiveAsync(systemd, "STOPPING=1"), StringComparison.Ordinal);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        server.DeleteWorkDir();
    }

    [Fact]
    public void The_environment_decides_what_is_sent()
    {
        using SystemdNotifier? none = SystemdNotifier.Create(null, "1000000", null, 42);
        Assert.Null(none);
        Assert.Null(SystemdNotifier.Create("relative/socket", null, null, 42));

        using SystemdNotifier ours = SystemdNotifier.Create("@x", "30000000", "42", 42)!;
        Assert.Equal(TimeSpan.FromSeconds(30), ours.WatchdogTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), ours.HeartbeatPeriod);

        using SystemdNotifier other = SystemdNotifier.Create("/run/systemd/notify", "30000000", "7", 42)!;
        Assert.Null(other.WatchdogTimeout); // WATCHDOG_PID names another process

        using SystemdNotifier fast = SystemdNotifier.Create("/run/systemd/notify", "1000000", null, 42)!;
        Assert.Equal(TimeSpan.FromMilliseconds(500), fast.HeartbeatPeriod);
    }

    /// <summary>The next datagram whose first line is <paramref name="first"/> (others, e.g. watchdog pings, are skipped).</summary>
    private static async Task<string> ReceiveAsync(Socket socket, string first)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[4096];
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            string message = Encoding.UTF8.GetString(buffer, 0, n);
            if (message.Split('\n')[0] == first)
            {
                return message;
            }
        }
    }
}
