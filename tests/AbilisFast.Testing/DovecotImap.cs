namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// Dovecot's IMAP server (Debian dovecot-imapd) as a plain foreground process on a loopback port:
/// a private configuration, base_dir, state_dir and log in a temporary folder, one user
/// (<see cref="User"/> / <see cref="Password"/>, static passdb and userdb) whose INBOX is the
/// Maildir given, no system service. Dovecot never runs a mail process as root, so as root the
/// Maildir and the folder holding it are handed to nobody (chown; the modes stay) and the user's mail process runs as nobody;
/// otherwise everything runs as the current user. Dispose stops it (SIGTERM, then SIGKILL).
/// </summary>
internal sealed class DovecotImap(Process process, string dir, int port) : IDisposable
{
    public const string User = "reader";
    public const string Password = "imap-test-secret";

    private const string Dovecot = "/usr/sbin/dovecot";

    private readonly Process _process = process;

    public int Port { get; } = port;

    /// <summary>The private folder: dovecot.conf, dovecot.log, run/, state/, home/.</summary>
    public string Directory { get; } = dir;

    public string LogPath => Path.Combine(Directory, "dovecot.log");

    /// <summary>Everything Dovecot logged so far.</summary>
    public string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath) : string.Empty;

    public static bool IsInstalled => File.Exists(Dovecot) && File.Exists("/usr/lib/dovecot/imap");

    /// <summary>Starts Dovecot with <paramref name="maildir"/> as the user's INBOX and waits for its IMAP greeting.</summary>
    public static async Task<DovecotImap> StartAsync(string maildir)
    {
        if (!IsInstalled)
        {
            throw new InvalidOperationException("Dovecot's IMAP server is not installed (apt-get install dovecot-imapd); tools/test.sh installs it");
        }

        string dir = Path.Combine(Path.GetTempPath(), "abilisfast-dovecot-" + Guid.NewGuid().ToString("N")[..12]);
        string home = Path.Combine(dir, "home");
        System.IO.Directory.CreateDirectory(Path.Combine(dir, "run"));
        System.IO.Directory.CreateDirectory(Path.Combine(dir, "state"));
        System.IO.Directory.CreateDirectory(home);
        int port = ServerProcess.FreePort();
        bool root = Environment.UserName == "root";
        string uid, gid;
        var extra = new StringBuilder();
        if (root)
        {
            (uid, gid) = ("65534", "65534");
            // The Maildir and the folder that holds it (WDIR/mailboxes, mode 0700) go to nobody.
            await ChownAsync($"{uid}:{gid}", recursive: true, maildir, home);
            await ChownAsync($"{uid}:{gid}", recursive: false, Path.GetDirectoryName(Path.GetFullPath(maildir))!);
        }
        else
        {
            // Unprivileged: every process runs as us, and the login process cannot chroot.
            (uid, gid) = (await IdAsync("-u"), await IdAsync("-g"));
            string me = Environment.UserName;
            extra.Append(CultureInfo.InvariantCulture, $"default_internal_user = {me}\ndefault_login_user = {me}\n");
            extra.Append("service imap-login {\n  chroot =\n}\nservice anvil {\n  chroot =\n}\n");
            // Sockets that would be given to the dovecot group, which an unprivileged master cannot do.
            foreach ((string service, string socket) in (ReadOnlySpan<(string, string)>)[("stats", "stats-writer"), ("imap-hibernate", "imap-hibernate"), ("dict", "dict"), ("dict-async", "dict-async")])
            {
                extra.Append(CultureInfo.InvariantCulture, $"service {service} {{\n  unix_listener {socket} {{\n    group =\n  }}\n}}\n");
            }
        }

        string config = $$"""
            base_dir = {{dir}}/run
            state_dir = {{dir}}/state
            log_path = {{dir}}/dovecot.log
            protocols = imap
            listen = 127.0.0.1
            ssl = no
            disable_plaintext_auth = no
            auth_mechanisms = plain
            first_valid_uid = 1
            mail_location = maildir:{{maildir}}:INDEX={{home}}/index
            passdb {
              driver = static
              args = password={{Password}}
            }
            userdb {
              driver = static
              args = uid={{uid}} gid={{gid}} home={{home}}
            }
            service imap-login {
              inet_listener imap {
                address = 127.0.0.1
                port = {{port.ToString(CultureInfo.InvariantCulture)}}
              }
              inet_listener imaps {
                port = 0
              }
            }

            """ + extra;
        string configPath = Path.Combine(dir, "dovecot.conf");
        await File.WriteAllTextAsync(configPath, config);

        var info = new ProcessStartInfo(Dovecot)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-F");
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(configPath);
        var output = new ProcessOutput();
        var process = new Process { StartInfo = info };
        process.ErrorDataReceived += (_, e) => output.Add(e.Data);
        process.OutputDataReceived += (_, e) => output.Add(e.Data);
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var started = new DovecotImap(process, dir, port);
        DateTime deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                using var reader = new StreamReader(probe.GetStream(), Encoding.ASCII);
                string? greeting = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(5));
                if (greeting?.StartsWith("* OK", StringComparison.Ordinal) == true)
                {
                    return started;
                }
            }
            catch (Exception e) when (e is SocketException or IOException or TimeoutException)
            {
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                string why = process.HasExited ? $"exited with {process.ExitCode}" : "gave no IMAP greeting in 20 s";
                string log = output.ToString() + started.Log;
                started.Dispose();
                throw new InvalidOperationException($"dovecot {why}: {log}");
            }

            await Task.Delay(100);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            using (Process? term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                term?.WaitForExit();
            }

            if (!_process.WaitForExit(10_000))
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }

        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task ChownAsync(string owner, bool recursive, params string[] paths)
    {
        (int exit, string output) = await Tool.RunAsync("chown", [.. recursive ? ["-R"] : Array.Empty<string>(), owner, .. paths]);
        if (exit != 0)
        {
            throw new InvalidOperationException($"chown {owner}: {output}");
        }
    }

    private static async Task<string> IdAsync(string flag)
    {
        (int exit, string output) = await Tool.RunAsync("id", [flag]);
        return exit == 0 ? output.Trim() : throw new InvalidOperationException($"id {flag}: {output}");
    }
}
