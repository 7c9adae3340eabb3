using System.Net;
using AbilisFast.Server.Sessions;

namespace AbilisFast.Server.Tests.Support;

/// <summary>The in-process server on a loopback port of its own, over a real spool (for <c>using static</c>).</summary>
internal static class LoopbackServers
{
    /// <summary>Starts a server for LOCAL-DOMAIN local.test with <paramref name="parameters"/> on 127.0.0.1, port chosen by the system.</summary>
    public static async Task<(TestServerContext Context, SmtpListener Server)> StartAsync(params string[] parameters)
    {
        var context = new TestServerContext(["LOCAL-DOMAIN:local.test", .. parameters]);
        var server = new SmtpListener(context.Context);
        server.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await Task.Yield();
        return (context, server);
    }

    public static async Task StopAsync(TestServerContext context, SmtpListener server)
    {
        await server.DisposeAsync();
        context.Dispose();
    }
}
