using AbilisFast.Server.Configuration;
using AbilisFast.Server.Delivery;
using AbilisFast.Server.Diagnostics;
using AbilisFast.Server.Mailboxes;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Spool;

namespace AbilisFast.Bench;

/// <summary>
/// A server context as the host builds it, in a temporary WDIR with a real spool: settings parsed
/// from <c>NAME:VALUE</c> parameters, a session log, the spool and the local mailboxes.
/// The directory is under <c>ABILISFAST_BENCH_DIR</c> when set (to put the spool on a given disk),
/// else under the system temporary directory. <see cref="Dispose"/> removes it.
/// </summary>
internal sealed class BenchServer : IDisposable
{
    public BenchServer(SpoolOptions spoolOptions, params string[] parameters)
    {
        WorkDir = CreateWorkDir("abilisfast-bench-");
        Settings = ConfigurationLoader.Load(Server.Configuration.CommandLine.Parse(
            [$"WDIR:{WorkDir}", "HELOHOST:mx.bench.test", "LOCAL-DOMAIN:local.test", "STORE-MB:YES", "MAX-RCPT:1000", .. parameters]));
        Log = new SessionLog();
        Spool = SpoolStore.Open(Path.Combine(WorkDir, "spool"), spoolOptions, out _);
        SmtpContext? live = null;
        Mailboxes = new MaildirStore(Path.Combine(WorkDir, "mailboxes"), () => (live!.Settings.MbMaxSizeBytes, live.Settings.MbMaxMails));
        Context = new SmtpContext(Settings, Log, Spool) { Mailboxes = Mailboxes };
        live = Context;
    }

    public string WorkDir { get; }

    public SmtpSettings Settings { get; }

    public SessionLog Log { get; }

    public SpoolStore Spool { get; }

    public MaildirStore Mailboxes { get; }

    public SmtpContext Context { get; }

    /// <summary>Marks every message the sessions queued as delivered, so the spool can drop its segments.</summary>
    public int ReleaseQueued()
    {
        int released = 0;
        while (Context.Queue.TryDequeue(out QueuedMessage message))
        {
            Spool.MarkDone(message.Id);
            released++;
        }

        return released;
    }

    /// <summary>A fresh directory for a benchmark's files (see the class remarks for where).</summary>
    public static string CreateWorkDir(string prefix)
    {
        string root = Environment.GetEnvironmentVariable("ABILISFAST_BENCH_DIR") is { Length: > 0 } configured
            ? configured
            : Path.GetTempPath();
        string directory = Path.Combine(root, prefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>Removes a directory made by <see cref="CreateWorkDir"/>; a leftover is not worth failing a run.</summary>
    public static void DeleteWorkDir(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public void Dispose()
    {
        Spool.Dispose();
        DeleteWorkDir(WorkDir);
    }
}
