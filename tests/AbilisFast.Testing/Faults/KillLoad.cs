namespace AbilisFast.Server.Tests.Faults;

/// <summary>What a client knows about one message it tried to send.</summary>
internal enum Fate
{
    /// <summary>Refused, or the connection died before the final dot went out: the server never took it.</summary>
    NotTaken,

    /// <summary>
    /// The final dot was (or may have been) sent and no reply came back: the server may have fsynced
    /// it and died before its 250 left, so it may or may not be delivered.
    /// </summary>
    InFlight,

    /// <summary>The client read 250 after the final dot: the server owns it.</summary>
    Accepted,
}

/// <summary>
/// Clients that send numbered messages (<see cref="FaultRig.Message"/>) in a loop to the real
/// server while the test kills it with kill -9 at random moments and restarts it on the same WDIR;
/// each message's <see cref="Fate"/> is recorded as the client saw it. Dispose kills the server
/// and removes the WDIR.
/// </summary>
internal sealed class KillLoad : IDisposable
{
    private readonly string _workDir;
    private readonly string[] _parameters;
    private readonly string _tag;
    private readonly Func<int, string> _recipient;
    private readonly int _bodyLines;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients = [];
    private readonly Random _random = new();
    private readonly string _password;
    private int _next;
    private int _port;

    private KillLoad(ServerProcess server, string workDir, string[] parameters, string tag, Func<int, string> recipient, int bodyLines)
    {
        Server = server;
        _workDir = workDir;
        _parameters = parameters;
        _tag = tag;
        _recipient = recipient;
        _bodyLines = bodyLines;
        _password = server.AdminPassword;
        _port = server.Port;
    }

    /// <summary>The server now running (a new process after each kill).</summary>
    public ServerProcess Server { get; private set; }

    public ConcurrentDictionary<int, Fate> Fates { get; } = new();

    /// <summary>
    /// The numbers of the messages the clients saw acknowledged (<see cref="Fate.Accepted"/>); fails
    /// when there are fewer than <paramref name="minimum"/>: the test did not load the server.
    /// </summary>
    public int[] AcceptedAtLeast(int minimum)
    {
        int[] accepted = [.. Fates.Where(f => f.Value == Fate.Accepted).Select(f => f.Key)];
        Assert.True(accepted.Length >= minimum, $"only {accepted.Length} message(s) accepted: the test did not load the server");
        return accepted;
    }

    public CancellationToken Stopping => _stop.Token;

    /// <summary>
    /// After the kills: waits until QUEUE-OUT and QUEUE-DEFER are empty, then stops the server with
    /// SIGTERM and asserts that it exits 0 and leaves no live message in the spool (every message
    /// ended with a Done record).
    /// </summary>
    public async Task AssertDrainsAndStopsCleanlyAsync(TimeSpan queueTimeout)
    {
        await FaultRig.WaitForEmptyQueuesAsync(Server, queueTimeout);
        Assert.Equal(0, await Server.TerminateAsync(TimeSpan.FromSeconds(20)));
        Assert.Empty(StoredMessages.Read(Server.SpoolDir));
    }

    public void Dispose()
    {
        Server.Dispose();
        _stop.Dispose();
        if (Directory.Exists(_workDir))
        {
            Directory.Delete(_workDir, recursive: true);
        }
    }

    /// <summary>Starts the server in <paramref name="workDir"/> and <paramref name="clients"/> clients sending to it.</summary>
    public static async Task<KillLoad> StartAsync(string workDir, string[] parameters, string tag, Func<int, string> recipient, int bodyLines = 20, int clients = 4)
    {
        ServerProcess server = await ServerProcess.StartAsync(workDir, parameters: parameters);
        var load = new KillLoad(server, workDir, parameters, tag, recipient, bodyLines);
        for (int i = 0; i < clients; i++)
        {
            load._clients.Add(Task.Run(load.ClientAsync));
        }

        return load;
    }

    /// <summary>Runs <paramref name="task"/> beside the clients until they stop (a mail reader, say).</summary>
    public void Alongside(Func<Task> task) => _clients.Add(Task.Run(task));

    /// <summary>
    /// <paramref name="kills"/> rounds of load for a random time in [<paramref name="minMs"/>,
    /// <paramref name="maxMs"/>) ms, kill -9 and a restart; then load once more for a while and stop the clients.
    /// </summary>
    public async Task KillAndRestartAsync(int kills, int minMs, int maxMs, int lastMaxMs)
    {
        try
        {
            for (int round = 0; round < kills; round++)
            {
                await Eventually.LetTimePassAsync(TimeSpan.FromMilliseconds(_random.Next(minMs, maxMs)), "load until the next kill at a random moment");
                Server.Kill();
                Server.Dispose();
                Server = await ServerProcess.StartAsync(_workDir, parameters: _parameters);
                Server.KnownAdminPassword = _password;
                Volatile.Write(ref _port, Server.Port);
            }

            await Eventually.LetTimePassAsync(TimeSpan.FromMilliseconds(_random.Next(minMs, lastMaxMs)), "load after the last restart");
        }
        finally
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_clients);
        }
    }

    private async Task ClientAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            SmtpTestClient? client = null;
            // While the server is down, connecting fails: try again until it is back (or the test stops).
            await Eventually.WaitAsync(
                async () =>
                {
                    try
                    {
                        client = _stop.IsCancellationRequested ? null : await SmtpTestClient.ConnectAsync(Volatile.Read(ref _port));
                        return true;
                    }
                    catch (SocketException)
                    {
                        return false;
                    }
                },
                "the server to take connections again",
                TimeSpan.FromSeconds(60));
            if (client is null)
            {
                return;
            }

            await using (client)
            {
                await SessionAsync(client);
            }
        }
    }

    private async Task SessionAsync(SmtpTestClient client)
    {
        try
        {
            if ((await client.ReadReplyAsync())?.StartsWith("220 ", StringComparison.Ordinal) != true
                || (await client.CommandAsync("EHLO client.test"))?.StartsWith("250", StringComparison.Ordinal) != true)
            {
                return;
            }

            while (!_stop.IsCancellationRequested)
            {
                int n = Interlocked.Increment(ref _next);
                Fates[n] = Fate.NotTaken;
                if ((await client.CommandAsync("MAIL FROM:<s@client.test>"))?.StartsWith("250", StringComparison.Ordinal) != true
                    || (await client.CommandAsync($"RCPT TO:<{_recipient(n)}>"))?.StartsWith("250", StringComparison.Ordinal) != true
                    || (await client.CommandAsync("DATA"))?.StartsWith("354", StringComparison.Ordinal) != true)
                {
                    return;
                }

                Fates[n] = Fate.InFlight; // from here on the server may hold it
                await client.SendAsync(FaultRig.Message(_tag, n, _bodyLines) + ".\r\n");
                string? reply = await client.ReadReplyAsync(TimeSpan.FromSeconds(10));
                if (reply is null)
                {
                    return; // died after the dot: stays InFlight
                }

                Fates[n] = reply.StartsWith("250 ", StringComparison.Ordinal) ? Fate.Accepted : Fate.NotTaken;
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            // The kill: whatever was marked stays as marked.
        }
    }
}
