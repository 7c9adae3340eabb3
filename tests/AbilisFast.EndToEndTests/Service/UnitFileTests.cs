namespace AbilisFast.Server.Tests.Service;

/// <summary>deploy/abilisfast.service: what it promises, and systemd's own check of it (never started here).</summary>
public sealed class UnitFileTests
{
    private static string UnitPath
    {
        get
        {
            DirectoryInfo? dir = new(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AbilisFast.sln")))
            {
                dir = dir.Parent;
            }

            return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("repository root not found"), "deploy", "abilisfast.service");
        }
    }

    [Fact]
    public void The_unit_runs_a_confined_notify_service_with_a_watchdog_and_reload()
    {
        string[] lines = File.ReadAllLines(UnitPath);
        foreach (string expected in (string[])[
            "Type=notify",
            "ExecStart=/usr/local/bin/abilisfast --config /etc/abilisfast/abilisfast.conf --wdir /var/lib/abilisfast",
            "ExecReload=/bin/kill -HUP $MAINPID",
            "WatchdogSec=30",
            "User=abilisfast",
            "AmbientCapabilities=CAP_NET_BIND_SERVICE",
            "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "PrivateTmp=yes",
            "PrivateDevices=yes",
            "ReadWritePaths=/var/lib/abilisfast",
            "StateDirectory=abilisfast",
            "RestartPreventExitStatus=2 3 4",
        ])
        {
            Assert.Contains(expected, lines);
        }
    }

    [Fact]
    public async Task Systemd_analyze_verify_accepts_it()
    {
        // The same unit with ExecStart= on the built executable, so that verify can check it exists.
        string unit = Path.Combine(Path.GetTempPath(), $"abilisfast-{Guid.NewGuid():N}.service");
        File.WriteAllText(unit, File.ReadAllText(UnitPath).Replace("/usr/local/bin/abilisfast", ServerProcess.ExecutablePath, StringComparison.Ordinal));
        try
        {
            var (exit, output) = await Tool.RunAsync("systemd-analyze", ["verify", unit]);
            Assert.True(exit == 0 && output.Trim().Length == 0, $"systemd-analyze verify: exit {exit}: {output}");
        }
        finally
        {
            File.Delete(unit);
        }
    }

    [Fact]
    public async Task Its_ExecStartPre_check_accepts_the_command_line_of_ExecStart()
    {
        using var dir = new Configuration.TempDir();
        string config = dir.Write("abilisfast.conf", "# empty: built-in defaults\n");
        var (exit, output) = await ServerProcess.CheckConfigAsync("--config", config, "--wdir", Path.Combine(dir.Path, "wdir"));
        Assert.True(exit == 0, output);
        Assert.StartsWith("abilisfast: configuration OK", output, StringComparison.Ordinal);
    }
}
