using AbilisFast.Server.Tests.Faults;

namespace AbilisFast.Server.Tests.Configuration;

/// <summary>
/// <c>save conf</c> writes what was set in the file and on the console, not what the command line
/// set for one run; its reply says what it wrote, where, and what it left out; the file is 0600
/// (it holds SERVER-PWD); a file it cannot write is one clear console error and stays as it was.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SaveConfTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (AdminCommands Commands, TestServerContext Server) Console(ParameterStore store, string? path)
    {
        var configuration = new LiveConfiguration(store, path);
        var server = new TestServerContext();
        var bans = new IpBanService(server.WorkDir, TimeProvider.System, configuration.IpBan);
        return (new AdminCommands(server.Context, Environment.TickCount64, configuration, bans), server);
    }

    [Fact]
    public void Command_line_values_stay_for_the_run_and_the_file_keeps_its_own()
    {
        string path = _dir.Write("a.conf", "HELOHOST:mx.from-file.test\nMAX-RCPT:50\nipban MAX-FAIL:4\n");
        ParameterStore store = ConfigurationLoader.LoadStore(CommandLine.Parse(
            ["--config", path, "--wdir", _dir.Path, "HELOHOST:mx.for-a-test.test", "TCP-LOCPORT:2526", "IPBAN:BAN-TIME:5"]));
        Assert.Equal("mx.for-a-test.test", store.GetValue("HELOHOST"));
        (AdminCommands commands, TestServerContext server) = Console(store, path);
        using (server)
        {
            Assert.Contains("MAX-RCPT:7 set", commands.Execute("s p smtp MAX-RCPT:7", UserRights.Admin).Text);
            Assert.Contains("MAX-FAIL:9 set", commands.Execute("s p ipban MAX-FAIL:9", UserRights.Admin).Text);
            string reply = commands.Execute("save conf", UserRights.Admin).Text;

            Assert.Contains($"Configuration saved to {path} (mode 0600, it may hold SERVER-PWD): 2 parameter(s) and 1 IPBAN parameter(s) set in the file or on the console\r\n", reply);
            string notSaved = System.Text.RegularExpressions.Regex.Match(reply, "Not saved, given on the command line for this run only: ([^\r]*)\r\n").Groups[1].Value;
            Assert.Equal(["HELOHOST", "IPBAN:BAN-TIME", "TCP-LOCPORT", "WDIR"], notSaved.Split(", ").Order(StringComparer.Ordinal));
            Assert.DoesNotContain("start with --config", reply);
        }

        string[] lines = File.ReadAllLines(path);
        Assert.Contains("HELOHOST:mx.from-file.test", lines);
        Assert.Contains("MAX-RCPT:7", lines);
        Assert.Contains("ipban MAX-FAIL:9", lines);
        Assert.DoesNotContain(lines, l => l.Contains("for-a-test", StringComparison.Ordinal) || l.StartsWith("TCP-LOCPORT", StringComparison.Ordinal)
            || l.StartsWith("WDIR", StringComparison.Ordinal) || l.StartsWith("ipban BAN-TIME", StringComparison.Ordinal));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_value_from_the_command_line_changed_on_the_console_is_saved()
    {
        string path = _dir.Write("b.conf", "MAX-RCPT:50\n");
        ParameterStore store = ConfigurationLoader.LoadStore(CommandLine.Parse(["--config", path, "MAX-RCPT:3"]));
        (AdminCommands commands, TestServerContext server) = Console(store, path);
        using (server)
        {
            Assert.Contains("MAX-RCPT:8 set", commands.Execute("s p smtp MAX-RCPT:8", UserRights.Admin).Text);
            string reply = commands.Execute("save conf", UserRights.Admin).Text;
            Assert.DoesNotContain("Not saved", reply);
        }

        Assert.Contains("MAX-RCPT:8", File.ReadAllLines(path));
    }

    [Fact]
    public void A_refused_console_value_puts_back_the_command_line_value_as_it_was()
    {
        string path = _dir.Write("c.conf", "SES-TOT:10\n");
        ParameterStore store = ConfigurationLoader.LoadStore(CommandLine.Parse(["--config", path, "SES-RESERVED-IN:4"]));
        (AdminCommands commands, TestServerContext server) = Console(store, path);
        using (server)
        {
            Assert.Contains("ERROR:", commands.Execute("s p smtp SES-RESERVED-IN:11", UserRights.Admin).Text);
            Assert.Equal("4", store.GetValue("SES-RESERVED-IN"));
            Assert.Contains("Not saved, given on the command line for this run only: SES-RESERVED-IN\r\n", commands.Execute("save conf", UserRights.Admin).Text);
        }

        Assert.DoesNotContain(File.ReadAllLines(path), l => l.StartsWith("SES-RESERVED-IN", StringComparison.Ordinal));
    }

    [Fact]
    public void A_file_in_a_folder_that_does_not_exist_is_one_error_line_and_nothing_is_written()
    {
        string path = Path.Combine(_dir.Path, "gone", "d.conf");
        (AdminCommands commands, TestServerContext server) = Console(new ParameterStore(), path);
        using (server)
        {
            string reply = commands.Execute("save conf", UserRights.Admin).Text;
            Assert.StartsWith($"ERROR: cannot save the configuration to {path}: ", reply);
            Assert.EndsWith("nothing was saved (the file stays as it was)\r\n", reply);
            Assert.Single(reply.Split("\r\n", StringSplitOptions.RemoveEmptyEntries));
        }

        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "gone")));
    }

    /// <summary>
    /// The systemd unit makes everything but WDIR read-only (ProtectSystem=strict), /etc included:
    /// a read-only mount (a tmpfs remounted ro) gives one console error naming the file and the way
    /// out, and the file stays as it was.
    /// </summary>
    [TmpfsFact]
    public void A_read_only_file_system_is_one_clear_error_and_the_file_stays()
    {
        using Tmpfs etc = Tmpfs.Mount(1);
        string path = Path.Combine(etc.Path, "abilisfast.conf");
        File.WriteAllText(path, "MAX-RCPT:50\n");
        etc.RemountReadOnly();
        ParameterStore store = ConfigurationLoader.LoadStore(CommandLine.Parse(["--config", path]));
        (AdminCommands commands, TestServerContext server) = Console(store, path);
        using (server)
        {
            Assert.Contains("MAX-RCPT:7 set", commands.Execute("s p smtp MAX-RCPT:7", UserRights.Admin).Text);
            string reply = commands.Execute("save conf", UserRights.Admin).Text;
            Assert.Equal($"ERROR: cannot save the configuration to {path}: the file system is read-only; nothing was saved"
                + " (the systemd unit leaves only WDIR writable: change the file as root, then systemctl reload abilisfast)\r\n", reply);
        }

        Assert.Equal("MAX-RCPT:50\n", File.ReadAllText(path));
        Assert.Equal(["abilisfast.conf"], Directory.GetFileSystemEntries(etc.Path).Select(Path.GetFileName));
    }
}
