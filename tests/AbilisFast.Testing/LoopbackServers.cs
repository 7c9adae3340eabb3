namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// The in-process server on a free loopback port of its own (the port chosen by the system), over a
/// real spool in a temporary WDIR: listening as soon as it is returned; disposing stops the
/// listener and removes the folder. The real executable is <see cref="ServerProcess"/>.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private LoopbackServer(TestServerContext context, SmtpListener listener)
    {
        Context = context;
        Listener = listener;
    }

    public TestServerContext Context { get; }
    public SmtpListener Listener { get; }
    public int Port => Listener.LocalEndPoint!.Port;

    /// <summary>Starts a server for LOCAL-DOMAIN local.test with <paramref name="parameters"/> on 127.0.0.1.</summary>
    public static async Task<LoopbackServer> StartAsync(params string[] parameters)
    {
        var context = new TestServerContext(["LOCAL-DOMAIN:local.test", .. parameters]);
        var listener = new SmtpListener(context.Context);
        listener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await Task.Yield();
        return new LoopbackServer(context, listener);
    }

    /// <summary>Connects, checks the 220 greeting and, unless <paramref name="ehlo"/> is null, says EHLO and checks the 250.</summary>
    public async Task<SmtpTestClient> ConnectAsync(string? ehlo = "client.test")
    {
        SmtpTestClient client = await SmtpTestClient.ConnectAsync(Port);
        Assert.StartsWith("220 ", await client.ReadReplyAsync());
        if (ehlo is not null)
        {
            Assert.StartsWith("250", await client.CommandAsync("EHLO " + ehlo));
        }

        return client;
    }

    public void Deconstruct(out TestServerContext context, out SmtpListener listener)
    {
        context = Context;
        listener = Listener;
    }

    public async ValueTask DisposeAsync()
    {
        await Listener.DisposeAsync();
        Context.Dispose();
    }
}

/// <summary>The same for <c>using static</c>.</summary>
internal static class LoopbackServers
{
    /// <inheritdoc cref="LoopbackServer.StartAsync"/>
    public static Task<LoopbackServer> StartAsync(params string[] parameters) => LoopbackServer.StartAsync(parameters);

    public static async Task StopAsync(TestServerContext context, SmtpListener server)
    {
        await server.DisposeAsync();
        context.Dispose();
    }
}
