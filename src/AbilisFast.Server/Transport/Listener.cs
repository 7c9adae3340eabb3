using System.Net;
using System.Net.Sockets;

namespace AbilisFast.Server.Transport;

/// <summary>The listening socket and accept loop shared by the SMTP port and the admin port.</summary>
internal static class Listener
{
    /// <summary>Binds and listens; [::] is dual-stack (IPv4 too), and falls back to 0.0.0.0 without IPv6.</summary>
    public static Socket Bind(IPEndPoint endPoint, int backlog)
    {
        if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && !Socket.OSSupportsIPv6)
        {
            endPoint = new IPEndPoint(IPAddress.Any, endPoint.Port);
        }

        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Accepts until <paramref name="stop"/> fires or the socket is closed, handing each connection to <paramref name="admit"/>.</summary>
    public static async Task AcceptLoopAsync(Socket listener, Action<Socket> admit, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // A connection reset before accept completed, or a transient limit (EMFILE): go on.
                continue;
            }

            admit(client);
        }
    }
}
