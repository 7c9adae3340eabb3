namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// The in-process server for LOCAL-DOMAIN local.test on a free loopback port of its own (the port
/// chosen by the system), plaintext only.
/// </summary>
internal sealed class LoopbackServer : InProcessServer
{
    private LoopbackServer(TestServerContext context, SmtpListener listener)
        : base(context, listener)
    {
    }

    /// <summary>Starts a server for LOCAL-DOMAIN local.test with <paramref name="parameters"/> on 127.0.0.1.</summary>
    public static async Task<LoopbackServer> StartAsync(params string[] parameters)
    {
        var context = new TestServerContext(["LOCAL-DOMAIN:local.test", .. parameters]);
        var listener = new SmtpListener(context.Context);
        listener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await Task.Yield();
        return new LoopbackServer(context, listener);
    }
}

/// <summary>The same for <c>using static</c>.</summary>
internal static class LoopbackServers
{
    /// <inheritdoc cref="LoopbackServer.StartAsync"/>
    public static Task<LoopbackServer> StartAsync(params string[] parameters) => LoopbackServer.StartAsync(parameters);
}
