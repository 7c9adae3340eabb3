namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// Postfix's smtp-sink on a loopback port: the standard SMTP test sink, which takes mail and throws
/// it away, dumps each message into a file (-d) and misbehaves on demand: -r gives 4xx, -f 5xx,
/// -q drops the connection and -Q says 421, each for the commands named. Runs as nobody (required
/// when the tests run as root); ends itself on dispose.
/// </summary>
internal sealed class SmtpSinkProcess(Process process, int port, string dumpDir) : IDisposable
{
    private readonly Process _process = process;

    public int Port { get; } = port;

    public string DumpDir { get; } = dumpDir;

    /// <summary>
    /// The text of each message file smtp-sink has written so far, in no order; a file it is still
    /// writing (and cannot be read yet) is left out.
    /// </summary>
    public IEnumerable<string> DumpTexts()
    {
        foreach (string file in Directory.GetFiles(DumpDir))
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (IOException)
            {
                continue;
            }

            yield return text;
        }
    }

    /// <summary>Starts smtp-sink with <paramref name="flags"/> (e.g. "-f", "rcpt") and waits until it answers.</summary>
    public static Task<SmtpSinkProcess> StartAsync(params string[] flags) => StartOnAsync(ServerProcess.FreePort(), flags);

    /// <summary>Starts smtp-sink on a given port (to replace one that misbehaved).</summary>
    public static async Task<SmtpSinkProcess> StartOnAsync(int port, params string[] flags)
    {
        string sink = File.Exists("/usr/sbin/smtp-sink") ? "/usr/sbin/smtp-sink" : "smtp-sink";
        string dumpDir = Path.Combine(Path.GetTempPath(), "abilisfast-sink-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dumpDir);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dumpDir, (UnixFileMode)0b111_111_111); // smtp-sink writes as nobody
        }
        var info = new ProcessStartInfo(sink)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Environment.UserName == "root")
        {
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add("nobody");
        }

        info.ArgumentList.Add("-d");
        info.ArgumentList.Add(Path.Combine(dumpDir, "%H%M%S."));
        foreach (string flag in flags)
        {
            info.ArgumentList.Add(flag);
        }

        info.ArgumentList.Add($"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        info.ArgumentList.Add("100");
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("smtp-sink is not installed (apt-get install postfix); .ci/run installs it", e);
        }

        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var started = new SmtpSinkProcess(process, port, dumpDir);
        try
        {
            await Eventually.WaitAsync(
                async () =>
                {
                    try
                    {
                        using var probe = new TcpClient();
                        await probe.ConnectAsync("127.0.0.1", port);
                        return true;
                    }
                    catch (SocketException) when (!process.HasExited)
                    {
                        return false;
                    }
                },
                "smtp-sink to listen",
                TimeSpan.FromSeconds(10));
            return started;
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            started.Dispose();
            throw new InvalidOperationException($"smtp-sink did not start on port {port}");
        }
    }

    /// <summary>The dumped messages (smtp-sink writes LF line ends), oldest first.</summary>
    public string[] Dumps() =>
        [.. Directory.GetFiles(DumpDir).Select(f => new FileInfo(f)).OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal).Select(f => File.ReadAllText(f.FullName))];

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(DumpDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
