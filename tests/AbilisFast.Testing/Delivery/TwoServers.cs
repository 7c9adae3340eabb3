namespace AbilisFast.Server.Tests.Delivery;

/// <summary>
/// The delivery engine in process over real loopback sockets: the sending server A (its engine
/// started by <see cref="StartA"/>) delivers to a second in-process server B listening on a free
/// loopback port of its own, with routes from <see cref="ScriptedRoutes"/>. Both keep a real spool in a
/// temporary WDIR; disposing stops both and removes the folders.
/// </summary>
internal sealed class TwoServers : IAsyncDisposable
{
    private TestServerContext? _a;

    private TwoServers(TestServerContext b, SmtpListener bServer)
    {
        B = b;
        BServer = bServer;
    }

    public ScriptedRoutes Routes { get; } = new();

    /// <summary>The sender (after <see cref="StartA"/>).</summary>
    public TestServerContext A => _a ?? throw new InvalidOperationException("A is not started");

    public TestServerContext B { get; }
    public SmtpListener BServer { get; }
    public int BPort => BServer.LocalEndPoint!.Port;

    /// <summary>A's delivery engine; null once the test has disposed it.</summary>
    public DeliveryEngine? Engine { get; set; }

    /// <summary>Starts B for b.test (the route to it set) and leaves A to <see cref="StartA"/>.</summary>
    public static async Task<TwoServers> StartAsync()
    {
        var b = new TestServerContext("LOCAL-DOMAIN:b.test", "MAX-IP-SES:50", "SES-TOT:50");
        var bServer = new SmtpListener(b.Context);
        bServer.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await Task.Yield();
        var servers = new TwoServers(b, bServer);
        servers.Routes.Set("b.test", ScriptedRoutes.To(servers.BPort));
        return servers;
    }

    /// <summary>Creates A for a.test (relaying for 127/8, retries every minute) with <paramref name="parameters"/> and starts its engine.</summary>
    public DeliveryEngine StartA(params string[] parameters)
    {
        _a = new TestServerContext(["LOCAL-DOMAIN:a.test", "RELAY-NET:127/8", "MAIL-TRY-DELAY:1", .. parameters]);
        Engine = NewEngine(_a.Context);
        Engine.Start();
        return Engine;
    }

    /// <summary>A delivery engine for <paramref name="context"/> with A's mailboxes, short timeouts.</summary>
    public DeliveryEngine NewEngine(SmtpContext context) => new(context, Routes, A.Mailboxes)
    {
        ConnectTimeout = TimeSpan.FromSeconds(2),
        CommandTimeout = TimeSpan.FromSeconds(5),
        DataTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>
    /// Sends one message into A over an SMTP session (external mail); returns its queue id.
    /// <paramref name="from"/> and each of <paramref name="to"/> as <see cref="SmtpScript"/> takes them.
    /// </summary>
    public async Task<string> SendToAAsync(string from, string[] to, string text)
    {
        await using SessionHarness s = await SessionHarness.StartAsync(A.Context);
        Assert.StartsWith("250", await s.CommandAsync("EHLO client.test"));
        string? reply = await s.SendMailAsync(from, to, text);
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply);
        return reply![^8..];
    }

    public Task WaitUntilAsync(Func<bool> condition, string what) => Eventually.WaitAsync(condition, what, TimeSpan.FromSeconds(20));

    public async ValueTask DisposeAsync()
    {
        if (Engine is not null)
        {
            await Engine.DisposeAsync();
        }

        await BServer.DisposeAsync();
        B.Dispose();
        _a?.Dispose();
    }
}

/// <summary>Routes the test sets by name; an IP literal goes to that address; anything else is not found.</summary>
internal sealed class ScriptedRoutes : IMailRouteResolver
{
    private readonly ConcurrentDictionary<string, ResolveResult> _answers = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>One MX, mx.b.test, at 127.0.0.1:<paramref name="port"/>.</summary>
    public static ResolveResult To(int port) =>
        new(ResolveStatus.Ok, [new DeliveryTarget("mx.b.test", 10, [IPAddress.Loopback], port)], $"MX mx.b.test (10) 127.0.0.1:{port}");

    public void Set(string name, ResolveResult answer) => _answers[name] = answer;

    public Task<ResolveResult> ResolveMxAsync(string domain, int port, CancellationToken cancellationToken) => Answer(domain, port);

    public Task<ResolveResult> ResolveHostAsync(string host, int port, CancellationToken cancellationToken) => Answer(host, port);

    private Task<ResolveResult> Answer(string name, int port) =>
        Task.FromResult(_answers.TryGetValue(name, out ResolveResult? answer) ? answer
            : IPAddress.TryParse(name, out IPAddress? address) ? new(ResolveStatus.Ok, [new DeliveryTarget(name, 0, [address], port)], $"{name}:{port}")
            : ResolveResult.Permanent($"5.1.2 {name}: domain not found"));
}
