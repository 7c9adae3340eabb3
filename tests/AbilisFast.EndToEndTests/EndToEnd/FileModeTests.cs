namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>
/// The files a server writes into WDIR that hold mail, addresses or secrets are private however
/// permissive the umask it was started under (000 here: every file would be 0666, every folder
/// 0777): the spool folder 0700 and its segments 0600, the log folder 0700 and smtp.log 0600, the
/// saved configuration (which holds SERVER-PWD in clear) 0600, the ban list 0600. Outside systemd
/// nothing else sets the umask, so the code must.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection("EndToEnd")]
public sealed class FileModeTests : IDisposable
{
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The test's WDIR (removed at the end, whatever the outcome) and its data folder.</summary>
    private readonly string _workDir = ServerProcess.NewWorkDir();

    private readonly string _data;

    public FileModeTests() => _data = Path.Combine(_workDir, "data");

    public void Dispose() => Directory.Delete(_workDir, recursive: true);

    [Fact]
    public async Task SpoolLogSavedConfigurationAndBanListArePrivateUnderUmask000()
    {
        using ServerProcess server = await ServerProcess.StartWithUmaskAsync("000", _workDir,
            "LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "RELAY-NET:127/8", "QUEUE-HOLD:YES", "LOG:YES",
            "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{ServerProcess.FreePort()}", "IPBAN:MAX-FAIL:1", "IPBAN:WHITE-LIST:#");

        // The umask really is 000: a file the server makes without a mode of its own is 0666.
        string status = await File.ReadAllTextAsync($"/proc/{server.Pid}/status");
        Assert.Matches(@"\nUmask:\s+0000\n", status);

        // A message in the spool, its lines in the log file.
        var (exit, swaks) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port}", "--from", "s@client.test", "--to", "r@far.test",
            "--helo", "client.test", "--header", "Subject: modes", "--body", "private\n"]);
        Assert.True(exit == 0, swaks);
        string log = Path.Combine(_data, "log", "smtp.log");
        await Eventually.WaitAsync(() => File.Exists(log) && new FileInfo(log).Length > 0, "the session in WDIR/log/smtp.log");

        // A banned address: WDIR/ipban is written.
        await using (ConsoleTestClient attacker = await ConsoleTestClient.ConnectAsync(server.AdminPort, IPAddress.Parse("127.0.0.2")))
        {
            await attacker.ReadUntilAsync("Login:");
            await attacker.SendAsync("admin\r\n");
            await attacker.ReadUntilAsync("Password:");
            await attacker.SendAsync("wrong\r\n");
            await attacker.ReadUntilAsync("Login incorrect\r\n");
        }

        string ipban = Path.Combine(_data, "ipban");
        await Eventually.WaitAsync(() => File.Exists(ipban) && File.ReadAllText(ipban).Contains("127.0.0.2", StringComparison.Ordinal), "the ban in WDIR/ipban");

        // A password set on the console, saved.
        Assert.Contains("SERVER-PWD:******** set", await server.CtlAsync("s p smtp SERVER-PWD:pw-in-clear"));
        string saved = await server.CtlAsync("save conf");
        string conf = Path.Combine(_data, "abilisfast.conf");
        Assert.Contains($"Configuration saved to {conf} (mode 0600", saved);
        Assert.Contains("SERVER-PWD:pw-in-clear", File.ReadAllLines(conf));

        Assert.Equal(PrivateFolder, File.GetUnixFileMode(server.SpoolDir));
        string segment = Assert.Single(Directory.GetFiles(server.SpoolDir, "seg-*.jnl"));
        Assert.Equal(PrivateFile, File.GetUnixFileMode(segment));
        Assert.Equal(PrivateFolder, File.GetUnixFileMode(Path.Combine(_data, "log")));
        Assert.Equal(PrivateFile, File.GetUnixFileMode(log));
        Assert.Equal(PrivateFile, File.GetUnixFileMode(ipban));
        Assert.Equal(PrivateFile, File.GetUnixFileMode(conf));
        Assert.Empty(Directory.GetFiles(_data, "*.tmp"));
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
    }

    /// <summary>
    /// Under umask 000 too: the first start's password file is 0600, and a message delivered to a
    /// local mailbox is a 0600 file in 0700 folders.
    /// </summary>
    [Fact]
    public async Task TheFirstPasswordFileAndLocalMailArePrivateUnderUmask000()
    {
        using ServerProcess server = await ServerProcess.StartWithUmaskAsync("000", _workDir,
            "LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES");
        Assert.Matches(@"\nUmask:\s+0000\n", await File.ReadAllTextAsync($"/proc/{server.Pid}/status"));
        Assert.Equal(PrivateFile, File.GetUnixFileMode(Path.Combine(_data, "initial-admin-password")));

        // postmaster goes to the mailbox of the admin the first start created.
        var (exit, swaks) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port}", "--from", "s@client.test", "--to", "postmaster@local.test",
            "--helo", "client.test", "--header", "Subject: modes", "--body", "private\n"]);
        Assert.True(exit == 0, swaks);
        string box = Path.Combine(_data, "mailboxes", "admin");
        string[] delivered = await Eventually.WaitAsync(
            () => Directory.Exists(Path.Combine(box, "new")) && Directory.GetFiles(Path.Combine(box, "new")) is { Length: 1 } f ? f : null, "the message in admin's mailbox");
        Assert.Equal(PrivateFile, File.GetUnixFileMode(delivered[0]));
        foreach (string folder in (string[])[Path.Combine(_data, "mailboxes"), box, Path.Combine(box, "tmp"), Path.Combine(box, "new"), Path.Combine(box, "cur")])
        {
            Assert.Equal(PrivateFolder, File.GetUnixFileMode(folder));
        }

        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
    }

    /// <summary>
    /// A spool and a log made by an older version under umask 022 (0755 folders, 0644 files) are
    /// made private at the next start.
    /// </summary>
    [Fact]
    public async Task AnOpenSpoolAndLogFromBeforeAreMadePrivateAtStart()
    {
        string[] parameters = ["LOCAL-DOMAIN:local.test", "RELAY-NET:127/8", "QUEUE-HOLD:YES", "LOG:YES", "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{ServerProcess.FreePort()}"];
        string password;
        using (ServerProcess server = await ServerProcess.StartAsync(_workDir, parameters: parameters))
        {
            password = server.AdminPassword;
            var (exit, swaks) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port}", "--from", "s@client.test", "--to", "r@far.test", "--helo", "client.test"]);
            Assert.True(exit == 0, swaks);
            await Eventually.WaitAsync(() => File.Exists(Path.Combine(_data, "log", "smtp.log")), "smtp.log");
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        const UnixFileMode Open = PrivateFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        const UnixFileMode OpenFolder = PrivateFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        string spool = Path.Combine(_data, "spool");
        string segment = Assert.Single(Directory.GetFiles(spool, "seg-*.jnl"));
        File.SetUnixFileMode(spool, OpenFolder);
        File.SetUnixFileMode(segment, Open);
        File.SetUnixFileMode(Path.Combine(_data, "log"), OpenFolder);
        File.SetUnixFileMode(Path.Combine(_data, "log", "smtp.log"), Open);

        using (ServerProcess again = await ServerProcess.StartAsync(_workDir, parameters: parameters))
        {
            again.KnownAdminPassword = password;
            Assert.Contains("1 message(s) recovered", again.Stderr);
            var (exit, swaks) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{again.Port}", "--from", "s@client.test", "--to", "r@far.test", "--helo", "client.test"]);
            Assert.True(exit == 0, swaks);
            await Eventually.WaitAsync(() => File.GetUnixFileMode(Path.Combine(_data, "log", "smtp.log")) == PrivateFile, "smtp.log made 0600");
            Assert.Equal(PrivateFolder, File.GetUnixFileMode(spool));
            Assert.Equal(PrivateFile, File.GetUnixFileMode(segment));
            Assert.Equal(PrivateFolder, File.GetUnixFileMode(Path.Combine(_data, "log")));
            Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(20)));
        }
    }
}
