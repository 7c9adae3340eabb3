namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// An in-process <see cref="SmtpListener"/> over a <see cref="TestServerContext"/> (a real spool in a
/// temporary WDIR), listening on loopback ports chosen by the system as soon as it is returned;
/// disposing stops the listener and removes the folder. The real executable is <see cref="ServerProcess"/>.
/// </summary>
internal abstract class InProcessServer(TestServerContext context, SmtpListener listener) : IAsyncDisposable
{
    public TestServerContext Context { get; } = context;

    public SmtpListener Listener { get; } = listener;

    /// <summary>The plaintext SMTP port.</summary>
    public int Port => Listener.LocalEndPoint!.Port;

    /// <summary>The implicit TLS port, where the server was started with one.</summary>
    public int TlsPort => Listener.TlsLocalEndPoint!.Port;

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
