using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AbilisFast.Server.Access;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Transport;

namespace AbilisFast.Server.Admin;

/// <summary>
/// The telnet-style admin port (ADMIN-ADDR:ADMIN-PORT): login with user name and password, then
/// the Abilis console commands at the prompt <c>[HH:MM:SS] NODENAME:</c>. Sessions are few and
/// slow, so plain streams are enough; what they read are snapshots of the SMTP state.
/// </summary>
internal sealed class AdminServer : IAsyncDisposable
{
    /// <summary>An idle console session is closed after this long.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(5);

    /// <summary>A connection must have logged in this long after it was accepted (all attempts together), or it is closed.</summary>
    public static readonly TimeSpan DefaultLoginDeadline = TimeSpan.FromSeconds(30);

    private const int MaxLoginAttempts = 3;

    /// <summary>
    /// Console connections at once (each login costs a PBKDF2 hash). A connection that has not logged
    /// in yet never keeps a newer one out: when all are taken, the oldest one still at the login
    /// prompt is closed to make room; only when every one has logged in is a new connection refused.
    /// </summary>
    public const int MaxSessions = 8;

    private readonly Lock _gate = new();

    /// <summary>Connections still logging in, oldest first.</summary>
    private readonly LinkedList<Connection> _loggingIn = new();
    private int _loggedIn;
    private static readonly byte[] WillEcho = [255, 251, 1];
    private static readonly byte[] WontEcho = [255, 252, 1];

    private readonly SmtpContext _context;
    private readonly Access.UserDirectory _users;
    private readonly AdminCommands _commands;
    private readonly string _nodeName;
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _acceptLoop;

    private readonly Access.IpBanService? _bans;

    /// <param name="users">WDIR/users as the server follows it: a new password counts at the next login.</param>
    public AdminServer(SmtpContext context, Access.UserDirectory users, Configuration.LiveConfiguration? configuration = null, Access.IpBanService? bans = null)
    {
        _context = context;
        _users = users;
        _bans = bans;
        _commands = new AdminCommands(context, Environment.TickCount64, configuration, bans);
        if (bans is not null)
        {
            LoginFailed += (address, what) => bans.RecordFailure(address, what);
        }
        _nodeName = context.Settings.NodeName;
    }

    public IPEndPoint? LocalEndPoint => _listener?.LocalEndPoint as IPEndPoint;

    /// <summary>How long a connection has to log in (tests shorten it).</summary>
    internal TimeSpan LoginDeadline { get; set; } = DefaultLoginDeadline;

    /// <summary>Console connections open now: still logging in, and logged in.</summary>
    internal (int LoggingIn, int LoggedIn) Connections
    {
        get
        {
            lock (_gate)
            {
                return (_loggingIn.Count, _loggedIn);
            }
        }
    }

    /// <summary>One console connection: its deadline and, until it has logged in, its place in the login queue.</summary>
    private sealed class Connection(CancellationToken stopping) : IDisposable
    {
        public CancellationTokenSource Timeout { get; } = CancellationTokenSource.CreateLinkedTokenSource(stopping);

        public LinkedListNode<Connection>? Waiting { get; set; }

        /// <summary>Closed to make room for a newer connection (the message it gets says so).</summary>
        public bool Evicted { get; set; }

        public bool LoggedIn { get; set; }

        public void Dispose() => Timeout.Dispose();
    }
    /// <summary>Raised for every refused login with the client address (the IPBAN feed).</summary>
    public event Action<IPAddress, string>? LoginFailed;

    public void Start(IPEndPoint endPoint)
    {
        _listener = Listener.Bind(endPoint, backlog: 16);
        _acceptLoop = Listener.AcceptLoopAsync(_listener, client => _ = RunSessionAsync(client), _stopping.Token);
    }

    private async Task RunSessionAsync(Socket client)
    {
        if (_bans is not null && _bans.IsBanned(PeerAddress.Of(client)))
        {
            client.Dispose(); // banned: dropped at accept, as on the SMTP port
            return;
        }

        using var connection = new Connection(_stopping.Token);
        if (!TryAdmit(connection))
        {
            await using var refused = new NetworkStream(client, ownsSocket: true);
            await TryWriteAsync(refused, "Too many console sessions, try again later\r\n").ConfigureAwait(false);
            return;
        }

        try
        {
            await RunLoggedSessionAsync(client, connection).ConfigureAwait(false);
        }
        finally
        {
            Leave(connection);
        }
    }

    /// <summary>
    /// Takes a place for a new connection: a free one, else the place of the oldest connection still
    /// logging in (closed now); false when every place belongs to a logged-in session.
    /// </summary>
    private bool TryAdmit(Connection connection)
    {
        Connection? evicted = null;
        lock (_gate)
        {
            if (_loggingIn.Count + _loggedIn >= MaxSessions)
            {
                if (_loggingIn.First is not { } oldest)
                {
                    return false;
                }

                evicted = oldest.Value;
                evicted.Evicted = true;
                _loggingIn.Remove(oldest);
                evicted.Waiting = null;
            }

            connection.Waiting = _loggingIn.AddLast(connection);
        }

        if (evicted is not null)
        {
            _context.Log.Write(Diagnostics.LogTag.Port, "Console: every place taken, the oldest connection not logged in is closed"u8);
            evicted.Timeout.Cancel();
        }

        return true;
    }

    private void LoggedIn(Connection connection)
    {
        lock (_gate)
        {
            if (connection.Waiting is { } node)
            {
                _loggingIn.Remove(node);
                connection.Waiting = null;
            }

            connection.LoggedIn = true;
            _loggedIn++;
        }
    }

    private void Leave(Connection connection)
    {
        lock (_gate)
        {
            if (connection.Waiting is { } node)
            {
                _loggingIn.Remove(node);
                connection.Waiting = null;
            }
            else if (connection.LoggedIn)
            {
                _loggedIn--;
            }
        }
    }

    private async Task RunLoggedSessionAsync(Socket client, Connection connection)
    {
        CancellationTokenSource timeout = connection.Timeout;
        await using var stream = new NetworkStream(client, ownsSocket: true);
        var reader = new TelnetLineReader(stream);
        try
        {
            IPAddress remote = PeerAddress.Of(client);

            // The whole login, every attempt included, within the login deadline.
            timeout.CancelAfter(LoginDeadline);
            UserRights? rights = await LoginAsync(stream, reader, timeout, remote).ConfigureAwait(false);
            if (rights is null)
            {
                return;
            }

            // Logged in: from now on the idle timeout, not what is left of the login deadline (which
            // could otherwise fire while the first prompt is being written).
            timeout.CancelAfter(IdleTimeout);
            lock (_gate)
            {
                if (connection.Evicted)
                {
                    return;
                }
            }

            LoggedIn(connection);

            while (true)
            {
                await WriteAsync(stream, Prompt()).ConfigureAwait(false);
                timeout.CancelAfter(IdleTimeout);
                var (status, text) = await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
                switch (status)
                {
                    case TelnetLineStatus.Closed:
                        return;
                    case TelnetLineStatus.TooLong:
                        await WriteAsync(stream, "ERROR: line too long\r\n").ConfigureAwait(false);
                        continue;
                    case TelnetLineStatus.Binary:
                        await WriteAsync(stream, "ERROR: only printable text is accepted\r\n").ConfigureAwait(false);
                        continue;
                }

                AdminCommands.Result result;
                try
                {
                    // Off the socket thread: a command may take a while (a long queue, a file write).
                    result = await Task.Run(() => _commands.Execute(text, rights.Value)).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // Never a stack trace on the console: one line, and the session goes on.
                    result = new AdminCommands.Result($"ERROR: command failed: {e.GetType().Name}\r\n");
                }

                await WriteAsync(stream, result.Text).ConfigureAwait(false);
                if (result.Quit)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            string why = connection.Evicted ? "\r\nConsole busy: this connection did not log in, its place went to a newer one\r\n"
                : connection.LoggedIn ? "\r\nSession timed out\r\n"
                : "\r\nLogin timed out\r\n";
            await TryWriteAsync(stream, why).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or EndOfStreamException or ObjectDisposedException)
        {
        }
    }

    private async Task<UserRights?> LoginAsync(Stream stream, TelnetLineReader reader, CancellationTokenSource timeout, IPAddress remote)
    {
        for (int attempt = 0; attempt < MaxLoginAttempts; attempt++)
        {
            await WriteAsync(stream, "Login:").ConfigureAwait(false);
            var (status, user) = await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            if (status == TelnetLineStatus.Closed)
            {
                return null;
            }

            bool hide = reader.PeerSpeaksTelnet;
            if (hide)
            {
                await stream.WriteAsync(WillEcho, timeout.Token).ConfigureAwait(false);
            }

            await WriteAsync(stream, "Password:").ConfigureAwait(false);
            var (passwordStatus, password) = await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            if (hide)
            {
                await stream.WriteAsync(WontEcho, timeout.Token).ConfigureAwait(false);
                await WriteAsync(stream, "\r\n").ConfigureAwait(false);
            }

            if (passwordStatus == TelnetLineStatus.Closed)
            {
                return null;
            }

            // PBKDF2 takes tens of milliseconds: never on the socket thread that serves SMTP sessions too.
            UserRights? rights = status == TelnetLineStatus.Line && passwordStatus == TelnetLineStatus.Line
                ? await Task.Run(() => _users.Verify(user.Trim(), password)).ConfigureAwait(false)
                : null;
            if (rights is { } r && r >= UserRights.User)
            {
                return r;
            }

            _context.Log.Write(Diagnostics.LogTag.Port, $"Console login failed for '{Printable(user)}' from {remote}");
            LoginFailed?.Invoke(remote, "console login");
            await WriteAsync(stream, "Login incorrect\r\n").ConfigureAwait(false);
        }

        return null;
    }

    private static string Printable(string text) => text.Length > 32 ? text[..32] + "..." : text;

    private string Prompt() =>
        string.Create(CultureInfo.InvariantCulture, $"[{_context.Time.GetLocalNow():HH:mm:ss}] {_nodeName}:");

    private static async Task WriteAsync(Stream stream, string text)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text)).ConfigureAwait(false);
    }

    private static async Task TryWriteAsync(Stream stream, string text)
    {
        try
        {
            await WriteAsync(stream, text).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            _stopping.Cancel();
            _listener?.Dispose();
            if (_acceptLoop is not null)
            {
                await _acceptLoop.ConfigureAwait(false);
            }
        }

        _stopping.Dispose();
    }
}
