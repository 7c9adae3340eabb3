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

    /// <summary>The console of a server that runs with <paramref name="store"/> and saves to <paramref name="path"/>.</summary>
    private sealed class AdminConsole : IDisposable
    {
        private readonly TestServerContext _server = new();
        private readonly AdminCommands _commands;

        public AdminConsole(ParameterStore store, string? path)
        {
            Store = store;
            var configuration = new LiveConfiguration(store, path);
            var bans = new IpBanService(_server.WorkDir, TimeProvider.System, configuration.IpBan);
            _commands = new AdminCommands(_server.Context, Environment.TickCount64, configuration, bans);
        }

        public ParameterStore Store { get; }

        /// <summary>A server started with <c>--config PATH ARGS</c>.</summary>
        public static AdminConsole Started(string path, params string[] args) =>
            new(ConfigurationLoader.LoadStore(CommandLine.Parse(["--config", path, .. args])), path);

        /// <summary>Runs a console command as an admin; returns its reply.</summary>
        public string Run(string command) => _commands.Execute(command, UserRights.Admin).Text;

        public void Dispose() => _server.Dispose();
    }

    [Fact]
    public void Command_line_values_stay_for_the_run_and_the_file_keeps_its_own()
    {
        string path = _dir.Write("a.conf", "HELOHOST:mx.from-file.test\nMAX-RCPT:50\nipban MAX-FAIL:4\n");
        using (var console = AdminConsole.Started(path, "--wdir", _dir.Path, "HELOHOST:mx.for-a-test.test", "TCP-LOCPORT:2526", "IPBAN:BAN-TIME:5"))
        {
            Assert.Equal("mx.for-a-test.test", console.Store.GetValue("HELOHOST"));
            Assert.Contains("MAX-RCPT:7 set", console.Run("s p smtp MAX-RCPT:7"));
            Assert.Contains("MAX-FAIL:9 set", console.Run("s p ipban MAX-FAIL:9"));
            string reply = console.Run("save conf");

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
        using (var console = AdminConsole.Started(path, "MAX-RCPT:3"))
        {
            Assert.Contains("MAX-RCPT:8 set", console.Run("s p smtp MAX-RCPT:8"));
            Assert.DoesNotContain("Not saved", console.Run("save conf"));
        }

        Assert.Contains("MAX-RCPT:8", File.ReadAllLines(path));
    }

    [Fact]
    public void A_refused_console_value_puts_back_the_command_line_value_as_it_was()
    {
        string path = _dir.Write("c.conf", "SES-TOT:10\n");
        using (var console = AdminConsole.Started(path, "SES-RESERVED-IN:4"))
        {
            Assert.Contains("ERROR:", console.Run("s p smtp SES-RESERVED-IN:11"));
            Assert.Equal("4", console.Store.GetValue("SES-RESERVED-IN"));
            Assert.Contains("Not saved, given on the command line for this run only: SES-RESERVED-IN\r\n", console.Run("save conf"));
        }

        Assert.DoesNotContain(File.ReadAllLines(path), l => l.StartsWith("SES-RESERVED-IN", StringComparison.Ordinal));
    }

    [Fact]
    public void A_file_in_a_folder_that_does_not_exist_is_one_error_line_and_nothing_is_written()
    {
        string path = Path.Combine(_dir.Path, "gone", "d.conf");
        using (var console = new AdminConsole(new ParameterStore(), path))
        {
            string reply = console.Run("save conf");
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
        using (var console = AdminConsole.Started(path))
        {
            Assert.Contains("MAX-RCPT:7 set", console.Run("s p smtp MAX-RCPT:7"));
            string reply = console.Run("save conf");
            Assert.Equal($"ERROR: cannot save the configuration to {path}: the file system is read-only; nothing was saved"
                + " (the systemd unit leaves only WDIR writable: change the file as root, then systemctl reload abilisfast)\r\n", reply);
        }

        Assert.Equal("MAX-RCPT:50\n", File.ReadAllText(path));
        Assert.Equal(["abilisfast.conf"], Directory.GetFileSystemEntries(etc.Path).Select(Path.GetFileName));
    }
}
