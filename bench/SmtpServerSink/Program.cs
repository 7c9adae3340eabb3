using System.Buffers;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Protocol;
using SmtpServer.Storage;

// smtpserver-sink PORT: the SmtpServer library listening on 127.0.0.1:PORT, every message
// answered 250 and thrown away (the library's own defaults otherwise). Stops on SIGTERM/Ctrl-C.
if (args.Length != 1 || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int port))
{
    Console.Error.WriteLine("usage: smtpserver-sink PORT");
    return 2;
}

ISmtpServerOptions options = new SmtpServerOptionsBuilder()
    .ServerName("smtpserver.bench.test")
    .Endpoint(b => b.Endpoint(new IPEndPoint(IPAddress.Loopback, port)))
    .Build();
var services = new ServiceProvider();
services.Add(new SinkStore());
var server = new SmtpServer.SmtpServer(options, services);
using var stop = new CancellationTokenSource();
using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
Task running = server.StartAsync(stop.Token);
Console.Error.WriteLine($"smtpserver-sink listening on 127.0.0.1:{port}");
try
{
    await running.ConfigureAwait(false);
}
catch (OperationCanceledException)
{
}

return 0;

internal sealed class SinkStore : MessageStore
{
    public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken) =>
        Task.FromResult(SmtpResponse.Ok);
}
