namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// The real <c>abilisfast</c> executable, started in its own temporary folder on a free loopback
/// port. Ends itself: Dispose kills the process and removes the folder.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ProcessOutput _stderr = new();
    private readonly TaskCompletionSource<int> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(string workDir, int port, int adminPort, Process process)
    {
        WorkDir = workDir;
        Port = port;
        AdminPort = adminPort;
        _process = process;
    }

    public int AdminPort { get; }

    /// <summary>
    /// The password of the console user 'admin' that a first start wrote to WDIR/initial-admin-password
    /// (one line <c>admin PASSWORD</c>), or else <see cref="KnownAdminPassword"/>.
    /// </summary>
    public string AdminPassword
    {
        get
        {
            string path = Path.Combine(WorkDir, "data", "initial-admin-password");
            string[] held = File.Exists(path) ? File.ReadAllText(path).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries) : [];
            return held is ["admin", string password] ? password : KnownAdminPassword ?? string.Empty;
        }
    }

    /// <summary>The admin password when the file no longer holds it (changed or deleted since).</summary>
    public string? KnownAdminPassword { get; set; }

    /// <summary>Runs <c>abilisfast ctl COMMAND</c> as admin against this server; returns its output (asserts exit 0).</summary>
    public async Task<string> CtlAsync(string command)
    {
        var (exit, output) = await Tool.RunAsync(ExecutablePath, ["ctl", "--port", AdminPort.ToString(System.Globalization.CultureInfo.InvariantCulture), command], stdin: AdminPassword + "\n");
        Assert.True(exit == 0, $"ctl {command}: exit {exit}: {output}");
        return output;
    }

    public string WorkDir { get; }
    public int Port { get; }
    public string SpoolDir => Path.Combine(WorkDir, "data", "spool");
    public bool HasExited => _process.HasExited;

    /// <summary>The server's process id (for /proc/PID/status).</summary>
    public int ProcessId => _process.Id;
    public int ExitCode => _process.ExitCode;

    public string Stderr => _stderr.ToString();

    /// <summary>Runs <c>abilisfast --check-config ARGS</c> (it checks and exits); returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> CheckConfigAsync(params string[] args) => Tool.RunAsync(ExecutablePath, ["--check-config", .. args]);

    /// <summary>Path of the built executable (the test project builds the host project).</summary>
    public static string ExecutablePath => BuiltFile("build the host project first", "src", "AbilisFast", "abilisfast");

    /// <summary>
    /// A file of a project built in the same configuration as the tests:
    /// ROOT/<paramref name="folder"/>/<paramref name="project"/>/bin/CONFIG/net10.0/<paramref name="file"/>.
    /// </summary>
    public static string BuiltFile(string hint, string folder, string project, string file)
    {
        string testDir = AppContext.BaseDirectory; // …/tests/X/bin/<Config>/net10.0/
        string configuration = new DirectoryInfo(testDir).Parent!.Name;
        string path = Path.Combine(RepositoryRoot(), folder, project, "bin", configuration, "net10.0", file);
        return File.Exists(path) ? path : throw new FileNotFoundException(hint, path);
    }

    /// <summary>The folder holding AbilisFast.sln, found upwards from the test binaries.</summary>
    public static string RepositoryRoot()
    {
        DirectoryInfo? dir = new(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AbilisFast.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>
    /// Adds users with the <c>mail</c> right (password "pw-NAME") to the WDIR/users a server in
    /// <paramref name="workDir"/> uses, before it starts: what <c>abilisfast user NAME --rights mail</c>
    /// does. Under LOCAL-RCPT:KNOWN (the default) only such names are local recipients.
    /// </summary>
    public static void AddMailUsers(string workDir, params string[] names)
    {
        string data = Path.Combine(workDir, "data");
        Directory.CreateDirectory(data);
        AbilisFast.Server.Access.UserStore users = AbilisFast.Server.Access.UserStore.Load(data);
        foreach (string name in names)
        {
            users.Set(name, AbilisFast.Server.Access.UserRights.Mail, "pw-" + name);
        }
    }

    /// <summary>A new WDIR with these mail users, and the server started in it.</summary>
    public static async Task<ServerProcess> StartWithMailUsersAsync(string[] users, params string[] parameters)
    {
        string workDir = NewWorkDir();
        AddMailUsers(workDir, users);
        return await StartAsync(workDir, null, parameters);
    }

    public static string NewWorkDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "abilisfast-e2e-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Starts the server in <paramref name="workDir"/> (a new one when null) and waits until it listens.</summary>
    public static async Task<ServerProcess> StartAsync(string? workDir = null, int? port = null, params string[] parameters) =>
        await StartAsync(workDir, port, adminPort: null, parameters);

    public static Task<ServerProcess> StartAsync(string? workDir, int? port, int? adminPort, params string[] parameters) =>
        StartWithEnvironmentAsync(null, workDir, port, adminPort, parameters);

    /// <summary>
    /// The same with extra environment variables (NOTIFY_SOCKET, WATCHDOG_USEC …); the systemd
    /// variables of the test runner's own environment, if any, are never passed on.
    /// </summary>
    public static Task<ServerProcess> StartWithEnvironmentAsync(IReadOnlyDictionary<string, string>? environment, string? workDir, int? port, int? adminPort, params string[] parameters) =>
        StartCoreAsync(environment, null, workDir, port, adminPort, parameters);

    /// <summary>The same under <c>umask <paramref name="umask"/></c> (octal, e.g. "000"), set by /bin/sh before it execs the server.</summary>
    public static Task<ServerProcess> StartWithUmaskAsync(string umask, string? workDir, params string[] parameters) =>
        StartCoreAsync(null, umask, workDir, null, null, parameters);

    private static async Task<ServerProcess> StartCoreAsync(IReadOnlyDictionary<string, string>? environment, string? umask, string? workDir, int? port, int? adminPort, string[] parameters)
    {
        workDir ??= NewWorkDir();
        int p = port ?? FreePort();
        int admin = adminPort ?? FreePort();
        var info = new ProcessStartInfo(umask is null ? ExecutablePath : "/bin/sh")
        {
            WorkingDirectory = workDir,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (umask is not null)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add($"umask {umask} && exec \"$0\" \"$@\"");
            info.ArgumentList.Add(ExecutablePath);
        }
        info.ArgumentList.Add("--wdir");
        info.ArgumentList.Add(Path.Combine(workDir, "data"));
        info.ArgumentList.Add($"TCP-LOCPORT:{p}");
        info.ArgumentList.Add($"ADMIN-PORT:{admin}");
        foreach (string parameter in parameters)
        {
            info.ArgumentList.Add(parameter);
        }

        foreach (string name in (string[])["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"])
        {
            info.Environment.Remove(name);
        }

        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        var server = new ServerProcess(workDir, p, admin, process);
        process.ErrorDataReceived += (_, e) => server.OnStderr(e.Data);
        process.OutputDataReceived += (_, _) => { };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        Task exited = process.WaitForExitAsync();
        Task first = await Task.WhenAny(server._listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(30)));
        if (first != server._listening.Task)
        {
            string why = first == exited ? $"exited with {process.ExitCode}" : "did not start in 30 s";
            server.Dispose();
            throw new InvalidOperationException($"abilisfast {why}: {server.Stderr}");
        }

        return server;
    }

    private void OnStderr(string? line)
    {
        _stderr.Add(line);
        if (line is not null && line.Contains("listening on port", StringComparison.Ordinal))
        {
            _listening.TrySetResult(0);
        }
    }

    /// <summary>kill -9: no chance to flush or clean anything.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    /// <summary>The server's process id (for /proc/PID and signals).</summary>
    public int Pid => _process.Id;

    /// <summary>Sends a signal by name (<c>HUP</c>, <c>TERM</c> …) with kill(1).</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits for the process to end after a signal; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, then waits for the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    public void DeleteWorkDir()
    {
        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
