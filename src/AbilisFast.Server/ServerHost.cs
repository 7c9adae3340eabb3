using System.Net;
using System.Net.Sockets;
using AbilisFast.Server.Access;
using AbilisFast.Server.Admin;
using AbilisFast.Server.Delivery;
using AbilisFast.Server.Mailboxes;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Service;
using AbilisFast.Server.Sessions;
using AbilisFast.Server.Spool;
using AbilisFast.Server.Submission;
using AbilisFast.Server.Transport;

namespace AbilisFast.Server;

/// <summary>
/// Wires the server together: WDIR, spool (with recovery into QUEUE-OUT), session log, channels and
/// the listener; runs until <paramref name="stop"/> fires, then shuts down gracefully.
/// </summary>
internal static class ServerHost
{
    /// <summary>How long sessions in the middle of a message may take to finish on shutdown.</summary>
    public static readonly TimeSpan ShutdownDeadline = TimeSpan.FromSeconds(10);

    public static Task<int> RunAsync(SmtpSettings settings, TextWriter console, CancellationToken stop, LiveConfiguration? configuration = null) =>
        RunAsync(settings, console, configuration, service: null, stop);

    /// <summary>Raises the soft open-files limit to the hard one, with a warning when SES-TOT sessions would not fit.</summary>
    private static void RaiseOpenFilesLimit(SmtpSettings settings, TextWriter console)
    {
        if (OpenFilesLimit.RaiseToHard() is { } files && OpenFilesLimit.Check(settings.SesTot, files.Now) is { } warning)
        {
            console.WriteLine($"abilisfast: warning: {warning}");
        }
    }

    /// <summary>
    /// Runs the server until <paramref name="stop"/> fires. With <paramref name="service"/>, tells
    /// systemd when it is ready, reloading and stopping, pings its watchdog from the session
    /// heartbeat, and reloads the configuration whenever a SIGHUP is counted in
    /// <see cref="ServiceOptions.Reloads"/>.
    /// </summary>
    public static async Task<int> RunAsync(SmtpSettings settings, TextWriter console, LiveConfiguration? configuration, ServiceOptions? service, CancellationToken stop)
    {
        RaiseOpenFilesLimit(settings, console);
        if (OpenWorkDir(settings, console, out FileStream? workDirLock) is int refused)
        {
            return refused;
        }

        await using var heldLock = workDirLock;
        var log = new SessionLog();
        SystemdNotifier? notifier = service?.Notifier;
        try
        {
            SpoolStore spool = OpenSpool(settings, log, out IReadOnlyList<RecoveredMessage> recovered, console);
            SmtpContext? live = null;
            var mailboxes = new MaildirStore(Path.Combine(settings.WorkDir, "mailboxes"),
                () => (live!.Settings.MbMaxSizeBytes, live.Settings.MbMaxMails));
            if (LoadTls(settings, console) is not { } tls || !CheckDkimKeys(settings, console))
            {
                await spool.DisposeAsync().ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            console.WriteLine($"abilisfast: TLS: {tls.Origin}, SHA-256 fingerprint {tls.Fingerprint}");
            (SmtpContext context, Access.UserDirectory users, Recipients.LocalRecipients recipients, Action<string> report) =
                CreateContext(settings, log, spool, mailboxes, tls, console);
            live = context;
            await using var logFile = new SessionLogFile(log, Path.Combine(settings.WorkDir, "log"), () => context.Settings, line => console.WriteLine($"abilisfast: {line}"));
            logFile.Start();
            await using var delivery = new DeliveryEngine(context, new LiveRouteResolver(context), mailboxes);
            Requeue(delivery, recovered);
            IpBanService bans = StartIpBan(settings, context, configuration, console);
            await using var server = new SmtpListener(context, bans);
            configuration?.Attach(context);
            configuration?.Attach(bans);
            FollowHeartbeat(server, notifier, recipients);
            if (StartListener(server, settings, console) is int notListening)
            {
                return notListening;
            }

            await using AdminServer? admin = StartAdmin(settings, context, console, configuration, bans, users);
            await using Metrics.MetricsServer? metrics = StartMetrics(settings, context, console);
            delivery.Start();
            string status = Announce(server, admin, context, recovered.Count, console);

            // Both listeners are bound and listening (the kernel queues connections from here on).
            notifier?.Ready(status);
            await RunUntilStoppedAsync(service, configuration, log, console, status,
                () => report(recipients.Reload(context.Settings)), stop).ConfigureAwait(false);
            await ShutDownAsync(notifier, server, delivery, spool, logFile, console).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            console.WriteLine(WorkDirMessage(settings.WorkDir, e));
            return ExitCodes.WorkDirUnusable;
        }
    }

    /// <summary>The messages recovered from the spool at start go back into the delivery queue.</summary>
    private static void Requeue(DeliveryEngine delivery, IReadOnlyList<RecoveredMessage> recovered)
    {
        foreach (RecoveredMessage message in recovered)
        {
            delivery.Recover(message);
        }
    }

    /// <summary>
    /// The orderly stop, told to systemd: the SMTP listener, then delivery (each within
    /// <see cref="ShutdownDeadline"/>), then the spool and the log file.
    /// </summary>
    private static async Task ShutDownAsync(SystemdNotifier? notifier, SmtpListener server, DeliveryEngine delivery, SpoolStore spool,
        SessionLogFile logFile, TextWriter console)
    {
        notifier?.Stopping();
        console.WriteLine("abilisfast: stopping");
        await server.StopAsync(ShutdownDeadline).ConfigureAwait(false);
        await delivery.StopAsync(ShutdownDeadline).ConfigureAwait(false);
        await spool.DisposeAsync().ConfigureAwait(false);
        await logFile.DisposeAsync().ConfigureAwait(false);
        console.WriteLine("abilisfast: stopped");
    }

    /// <summary>
    /// The context the sessions and deliveries share, with the users (WDIR/users) and the recipient
    /// table (WDIR/aliases) a running server follows; creates the first console admin when no user
    /// has admin rights and the admin port is on. Report writes a line to the session log and standard error.
    /// </summary>
    private static (SmtpContext Context, Access.UserDirectory Users, Recipients.LocalRecipients Recipients, Action<string> Report) CreateContext(
        SmtpSettings settings, SessionLog log, SpoolStore spool, MaildirStore mailboxes, ServerTls tls, TextWriter console)
    {
        Action<string> report = line =>
        {
            log.Write(LogTag.Port, line);
            console.WriteLine($"abilisfast: {line}");
        };
        if (settings.AdminAddress is not null)
        {
            CreateFirstAdmin(settings, console);
        }

        var users = new Access.UserDirectory(settings.WorkDir, report);
        var recipients = new Recipients.LocalRecipients(users, settings.WorkDir, report);
        var context = new SmtpContext(settings, log, spool)
        {
            Mailboxes = mailboxes,
            Tls = tls,
            AuthUsers = new Access.SmtpAuthUsers(users),
            Recipients = recipients,
        };
        recipients.Settings = () => context.Settings;
        report(recipients.Describe(recipients.For(settings)));
        return (context, users, recipients, report);
    }

    /// <summary>The session heartbeat follows WDIR/users and WDIR/aliases (two stats a second) and pings systemd's watchdog.</summary>
    private static void FollowHeartbeat(SmtpListener server, SystemdNotifier? notifier, Recipients.LocalRecipients recipients)
    {
        server.OnHeartbeat = recipients.RefreshFromHeartbeat;
        if (notifier is not null)
        {
            server.HeartbeatPeriod = notifier.HeartbeatPeriod;
            server.OnHeartbeat = () =>
            {
                recipients.RefreshFromHeartbeat();
                notifier.Heartbeat();
            };
        }
    }

    /// <summary>Creates WDIR and takes its lock; the exit code when either fails (the line is written), else null.</summary>
    private static int? OpenWorkDir(SmtpSettings settings, TextWriter console, out FileStream? workDirLock)
    {
        workDirLock = null;
        try
        {
            Directory.CreateDirectory(settings.WorkDir);
            workDirLock = LockWorkDir(settings.WorkDir);
            return null;
        }
        catch (IOException e) when (IsSharingViolation(e))
        {
            console.WriteLine($"abilisfast: WDIR {settings.WorkDir} is in use by another abilisfast (it holds {Path.Combine(settings.WorkDir, "abilisfast.lock")}); stop that server or set --wdir DIR");
            return ExitCodes.WorkDirUnusable;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            console.WriteLine(WorkDirMessage(settings.WorkDir, e));
            return ExitCodes.WorkDirUnusable;
        }
    }

    /// <summary>The server certificate, or null after a line saying why not.</summary>
    private static ServerTls? LoadTls(SmtpSettings settings, TextWriter console)
    {
        ServerTls tls;
        try
        {
            tls = ServerTls.Load(settings, TimeProvider.System);
        }
        catch (ConfigurationException e)
        {
            console.WriteLine($"abilisfast: {e.Message}");
            return null;
        }

        return tls;
    }

    /// <summary>Whether the DKIM keys can be used (false after a line saying why not).</summary>
    private static bool CheckDkimKeys(SmtpSettings settings, TextWriter console)
    {
        try
        {
            Signing.DkimSigner.CheckKeys(settings);
        }
        catch (ConfigurationException e)
        {
            console.WriteLine($"abilisfast: {e.Message}");
            return false;
        }

        return true;
    }

    /// <summary>The IPBAN service, logging to the session log and the console, with its alert mail attached.</summary>
    private static IpBanService StartIpBan(SmtpSettings settings, SmtpContext context, LiveConfiguration? configuration, TextWriter console)
    {
        SessionLog log = context.Log;
        var bans = new IpBanService(settings.WorkDir, TimeProvider.System, configuration?.IpBan ?? IpBanOptions.Default, log: line =>
        {
            log.Write(LogTag.Port, line);
            console.WriteLine($"abilisfast: {line}");
        });
        bans.Ipv6PrefixLength = () => context.Settings.Ipv6PrefixSes;
        IpBanAlertMail.Attach(bans, context, bans.Log);
        return bans;
    }

    /// <summary>Binds the SMTP ports; the exit code when a port is taken or needs privileges (the line is written), else null.</summary>
    private static int? StartListener(SmtpListener server, SmtpSettings settings, TextWriter console)
    {
        try
        {
            server.Start();
            return null;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            console.WriteLine(PortInUseText(settings));
            return ExitCodes.PortInUse;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            string which = settings.SubmissionPort is > 0 and < 1024
                ? $"port {settings.TcpLocPort} or SUBMISSION-PORT {settings.SubmissionPort}" : $"port {settings.TcpLocPort}";
            console.WriteLine($"abilisfast: {which} needs privileges (below 1024: run with CAP_NET_BIND_SERVICE, as the systemd unit does); or set TCP-LOCPORT:PORT"
                + (settings.SubmissionPort is > 0 and < 1024 ? " / SUBMISSION-PORT:PORT" : string.Empty));
            return ExitCodes.PortInUse;
        }
    }

    /// <summary>The line for a port in use: every SMTP port the settings bind, and the parameters that move them.</summary>
    private static string PortInUseText(SmtpSettings settings)
    {
        List<string> ports = [$"port {settings.TcpLocPort}"];
        List<string> names = ["TCP-LOCPORT:PORT"];
        if (settings.TlsPort is int tlsPort)
        {
            ports.Add($"TLS-PORT {tlsPort}");
            names.Add("TLS-PORT:PORT");
        }

        if (settings.SubmissionPort > 0)
        {
            ports.Add($"SUBMISSION-PORT {settings.SubmissionPort}");
            names.Add("SUBMISSION-PORT:PORT");
        }

        string which = ports.Count == 1 ? ports[0] : string.Join(", ", ports[..^1]) + " or " + ports[^1];
        return $"abilisfast: {which} is in use (another server?); stop it or set {string.Join(" / ", names)}";
    }

    /// <summary>Writes the "listening on" (or ACT:NO) line; returns the status systemd is told.</summary>
    private static string Announce(SmtpListener server, AdminServer? admin, SmtpContext context, int recovered, TextWriter console)
    {
        SmtpSettings settings = context.Settings;
        if (!server.IsListening)
        {
            console.WriteLine($"abilisfast: ACT:NO, the SMTP resource is inactive and accepts no connections; WDIR {settings.WorkDir}");
            return $"ACT:NO, not listening; WDIR {settings.WorkDir}";
        }

        string tlsPortText = (server.TlsLocalEndPoint is { } tlsEndPoint
                ? $", implicit TLS on port {tlsEndPoint.Port}{(settings.SubmissionTls ? " (submission rules)" : string.Empty)}" : string.Empty)
            + (server.SubmissionLocalEndPoint is { } submission ? $", submission on port {submission.Port}" : string.Empty);
        console.WriteLine($"abilisfast: listening on port {server.LocalEndPoint?.Port}{tlsPortText}, WDIR {settings.WorkDir}, {recovered} message(s) recovered ({context.Queue.OutCount} in QUEUE-OUT, {context.Queue.DeferCount} in QUEUE-DEFER)");
        return $"listening on port {server.LocalEndPoint?.Port}{tlsPortText}" + (admin is null ? string.Empty : $", admin port {admin.LocalEndPoint}");
    }

    /// <summary>Waits for <paramref name="stop"/>, reloading the configuration at each SIGHUP counted in the service options.</summary>
    private static async Task RunUntilStoppedAsync(ServiceOptions? service, LiveConfiguration? configuration,
        SessionLog log, TextWriter console, string status, Action reloadRecipients, CancellationToken stop)
    {
        while (true)
        {
            try
            {
                if (service?.Reloads is { } reloads)
                {
                    await reloads.WaitAsync(stop).ConfigureAwait(false);
                }
                else
                {
                    await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Reload(configuration, service?.Notifier, log, console, status);
            reloadRecipients(); // WDIR/users and WDIR/aliases again, and what is in force
        }
    }

    /// <summary>SIGHUP: re-reads the configuration; one line to standard error and the session log.</summary>
    private static void Reload(LiveConfiguration? configuration, SystemdNotifier? notifier, SessionLog log, TextWriter console, string status)
    {
        notifier?.Reloading();
        (bool _, string message) = configuration?.Reload() ?? (false, "reload: nothing to reload");
        console.WriteLine($"abilisfast: {message}");
        log.Write(LogTag.Port, message);
        notifier?.Ready(status);
    }

    /// <summary>The one line for a WDIR that cannot be created or written.</summary>
    internal static string WorkDirMessage(string workDir, Exception e)
    {
        // The check --check-config makes names a file in the way or a read-only parent best.
        string reason = ConfigurationCheck.TryCheckWorkDir(workDir, out string problem) ? Reason(e) : problem;
        return $"abilisfast: WDIR {workDir} is not usable ({reason}); make it a writable folder for this user or set --wdir DIR";
    }

    /// <summary>
    /// Why a file operation failed, in words: on Linux an IOException's HResult is the errno, and
    /// the AOT build's exception messages are bare resource keys.
    /// </summary>
    private static string Reason(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        DirectoryNotFoundException => "a folder on the path is missing",
        IOException { HResult: 20 } => "a part of the path is a file, not a folder",
        IOException { HResult: 28 } => "no space left on the device",
        IOException { HResult: 30 } => "read-only file system",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    /// <summary>
    /// The lock is held by another process: flock's EWOULDBLOCK surfaces as an IOException whose
    /// HResult is that errno (11) on Linux, a sharing violation (32) elsewhere.
    /// </summary>
    private static bool IsSharingViolation(IOException e) =>
        e is not FileNotFoundException and not DirectoryNotFoundException && (e.HResult == 11 || (e.HResult & 0xFFFF) == 32);

    /// <summary>
    /// A console needs an administrator: when no user in WDIR/users has admin (or super) rights, one
    /// is created with a random password written to WDIR/initial-admin-password (mode 0600); standard
    /// error gets only that file's path (<see cref="Access.InitialAdminPassword"/>).
    /// </summary>
    internal static void CreateFirstAdmin(SmtpSettings settings, TextWriter console)
    {
        foreach (string line in Access.InitialAdminPassword.CreateAdminIfNone(settings.WorkDir))
        {
            console.WriteLine($"abilisfast: {line}");
        }
    }

    /// <summary>Starts the admin port unless ADMIN-ADDR is # (the caller made sure an administrator exists).</summary>
    private static AdminServer? StartAdmin(SmtpSettings settings, SmtpContext context, TextWriter console, LiveConfiguration? configuration,
        IpBanService bans, Access.UserDirectory users)
    {
        if (settings.AdminAddress is null)
        {
            return null;
        }

        var admin = new AdminServer(context, users, configuration, bans);
        if (!TryStart(admin.Start, new IPEndPoint(settings.AdminAddress, settings.AdminPort), console, "admin", "ADMIN-PORT or ADMIN-ADDR:#"))
        {
            return null;
        }

        console.WriteLine($"abilisfast: admin port on {admin.LocalEndPoint}");
        return admin;
    }

    /// <summary>The warning for a metrics endpoint on an address beyond loopback (start and --check-config), or null.</summary>
    internal static string? MetricsAddressWarning(SmtpSettings settings) =>
        settings.MetricsPort == 0 || IPAddress.IsLoopback(settings.MetricsAddress)
            ? null
            : $"abilisfast: warning: METRICS-ADDR {settings.MetricsAddress} is not a loopback address: anyone who can reach port {settings.MetricsPort} can read the metrics" +
                (settings.MetricsToken.Length == 0 ? "; set METRICS-TOKEN or firewall the port" : " endpoint that presents METRICS-TOKEN");

    /// <summary>
    /// Starts the metrics endpoint when METRICS-PORT is set. A METRICS-ADDR that is not a loopback
    /// address is warned about (the endpoint tells anyone who can reach it how the relay is doing);
    /// a port that cannot be bound is a warning too: SMTP keeps running, as with the admin port.
    /// </summary>
    private static Metrics.MetricsServer? StartMetrics(SmtpSettings settings, SmtpContext context, TextWriter console)
    {
        if (settings.MetricsPort == 0)
        {
            return null;
        }

        if (MetricsAddressWarning(settings) is { } warning)
        {
            console.WriteLine(warning);
        }

        var metrics = new Metrics.MetricsServer(context);
        if (!TryStart(metrics.Start, new IPEndPoint(settings.MetricsAddress, settings.MetricsPort), console, "metrics", "METRICS-PORT or METRICS-ADDR"))
        {
            return null;
        }

        console.WriteLine($"abilisfast: metrics on http://{metrics.LocalEndPoint}/metrics");
        return metrics;
    }

    /// <summary>
    /// Starts the admin or metrics listener; a port that cannot be bound is a warning naming the
    /// parameters to change (SMTP keeps running), and false.
    /// </summary>
    private static bool TryStart(Action<IPEndPoint> start, IPEndPoint endPoint, TextWriter console, string what, string parameters)
    {
        try
        {
            start(endPoint);
            return true;
        }
        catch (SocketException e)
        {
            console.WriteLine($"abilisfast: {what} port {endPoint.Address}:{endPoint.Port} not available ({e.SocketErrorCode}); set {parameters} (SMTP keeps running)");
            return false;
        }
    }

    /// <summary>
    /// One server per WDIR: an exclusive lock on WDIR/abilisfast.lock (flock on Linux), held for
    /// the life of the process and released by the kernel even after kill -9.
    /// </summary>
    private static FileStream LockWorkDir(string workDir) =>
        new(Path.Combine(workDir, "abilisfast.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

    private static SpoolStore OpenSpool(SmtpSettings settings, SessionLog log, out IReadOnlyList<RecoveredMessage> recovered, TextWriter console)
    {
        // 16 MiB segments: recovery reads one segment at a time, which an appliance can afford,
        // and a new segment needs 16 MiB plus a 16 MiB reserve of free space.
        var options = new SpoolOptions
        {
            SegmentSize = 16L << 20,
            MinFreeBytes = 16L << 20,
            Log = line =>
            {
                log.Write(LogTag.Port, line);
                console.WriteLine($"abilisfast: spool: {line}");
            },
        };
        return SpoolStore.Open(Path.Combine(settings.WorkDir, "spool"), options, out recovered);
    }
}
