namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// The real dnsmasq (Debian package dnsmasq-base) in the foreground on 127.0.0.1 and a free port,
/// authoritative for the records it is given and for nothing else: no upstream server, no
/// /etc/hosts, no config file. Names under <c>local</c> domains it has no record for are NXDOMAIN.
/// Dispose kills it and removes its folder. A missing dnsmasq is a failure, not a skip
/// (.ci/run installs it).
/// </summary>
internal sealed class Dnsmasq(Process process, string dir, IPEndPoint endPoint) : IDisposable
{
    private readonly Process _process = process;
    private readonly string _dir = dir;
    private readonly ProcessOutput _output = new();

    /// <summary>Where it listens (UDP and TCP).</summary>
    public IPEndPoint EndPoint { get; } = endPoint;

    public string Output => _output.ToString();

    /// <summary>"--mx-host=domain,host,pref" ("." as host = null MX).</summary>
    public static string MxHost(string domain, string host, int preference) =>
        string.Create(CultureInfo.InvariantCulture, $"--mx-host={domain},{host},{preference}");

    /// <summary>"--host-record=name,address[,address]" (A and/or AAAA).</summary>
    public static string HostRecord(string name, params string[] addresses) =>
        $"--host-record={name},{string.Join(',', addresses)}";

    /// <summary>Starts dnsmasq with <paramref name="records"/> (dnsmasq options), answering locally for <paramref name="localDomains"/>, and waits until it answers.</summary>
    public static async Task<Dnsmasq> StartAsync(IEnumerable<string> records, params string[] localDomains)
    {
        string executable = FindExecutable()
            ?? throw new InvalidOperationException("dnsmasq is not installed (apt-get install dnsmasq-base); the DNS tests need it and .ci/run installs it");
        List<string> recordList = [.. records];
        string? lastFailure = null;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            // The free port can be taken between the probe and dnsmasq's bind: try another one.
            (Dnsmasq? server, string failure) = await TryStartAsync(executable, recordList, localDomains).ConfigureAwait(false);
            if (server is not null)
            {
                return server;
            }

            lastFailure = failure;
        }

        throw new InvalidOperationException("dnsmasq did not start: " + lastFailure);
    }

    /// <summary>The running server, or null and what dnsmasq printed when it exited at start.</summary>
    private static async Task<(Dnsmasq? Server, string Failure)> TryStartAsync(string executable, List<string> records, string[] localDomains)
    {
        int port = FreeUdpPort();
        string dir = Directory.CreateTempSubdirectory("abilisfast-dnsmasq-").FullName;
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--keep-in-foreground");
        info.ArgumentList.Add("--port=" + port.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add("--listen-address=127.0.0.1");
        info.ArgumentList.Add("--bind-interfaces");
        info.ArgumentList.Add("--no-resolv");
        info.ArgumentList.Add("--no-hosts");
        info.ArgumentList.Add("--conf-file=/dev/null");
        info.ArgumentList.Add("--log-facility=-");
        info.ArgumentList.Add("--pid-file=" + Path.Combine(dir, "dnsmasq.pid"));
        if (Environment.UserName == "root")
        {
            // As root dnsmasq would switch to nobody/dip, which may not exist in a container.
            info.ArgumentList.Add("--user=root");
            info.ArgumentList.Add("--group=root");
        }

        foreach (string domain in localDomains)
        {
            info.ArgumentList.Add($"--local=/{domain}/");
        }

        foreach (string record in records)
        {
            info.ArgumentList.Add(record);
        }

        var process = new Process { StartInfo = info };
        var server = new Dnsmasq(process, dir, new IPEndPoint(IPAddress.Loopback, port));
        process.ErrorDataReceived += (_, e) => server._output.Add(e.Data);
        process.OutputDataReceived += (_, e) => server._output.Add(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            server.Dispose();
            throw new InvalidOperationException($"cannot run {executable}: {e.Message}", e);
        }

        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        if (await server.WaitUntilAnsweringAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false))
        {
            return (server, "");
        }

        bool exited = process.HasExited;
        if (exited)
        {
            await process.WaitForExitAsync().ConfigureAwait(false);
        }

        string output = server.Output;
        server.Dispose();
        if (!exited)
        {
            // Running but silent for 10 s: something else is wrong, do not retry blindly.
            throw new InvalidOperationException("dnsmasq does not answer: " + output);
        }

        return (null, output);
    }

    /// <summary>Asks a name dnsmasq does not know until any answer comes back.</summary>
    private async Task<bool> WaitUntilAnsweringAsync(TimeSpan limit)
    {
        var options = new LookupClientOptions(EndPoint)
        {
            AutoResolveNameServers = false,
            UseCache = false,
            Timeout = TimeSpan.FromMilliseconds(200),
            Retries = 0,
            ThrowDnsErrors = false,
        };
        var client = new LookupClient(options);
        Stopwatch elapsed = Stopwatch.StartNew();
        while (elapsed.Elapsed < limit)
        {
            if (_process.HasExited)
            {
                return false;
            }

            try
            {
                await client.QueryAsync("probe.invalid", QueryType.A).ConfigureAwait(false);
                return true;
            }
            catch (DnsResponseException)
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
        }

        return false;
    }

    private static string? FindExecutable()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/sbin"))
        {
            if (dir.Length == 0)
            {
                continue;
            }

            string path = Path.Combine(dir, "dnsmasq");
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
