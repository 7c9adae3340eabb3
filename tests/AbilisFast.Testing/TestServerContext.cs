namespace AbilisFast.Server.Tests.Support;

/// <summary>A server context with a real spool in a temporary WDIR, for in-process tests.</summary>
internal sealed class TestServerContext : IDisposable
{
    public TestServerContext(params string[] parameters)
        : this(new SpoolOptions { SegmentSize = 4L << 20 }, parameters)
    {
    }

    /// <param name="tls">Load (generate) the self-signed certificate in WDIR and offer SMTP AUTH against WDIR/users.</param>
    public TestServerContext(bool tls, params string[] parameters)
        : this(new SpoolOptions { SegmentSize = 4L << 20 }, parameters, tls)
    {
    }

    public TestServerContext(SpoolOptions spoolOptions, params string[] parameters)
        : this(spoolOptions, parameters, tls: false)
    {
    }

    private TestServerContext(SpoolOptions spoolOptions, string[] parameters, bool tls, Action<string>? prepare = null)
    {
        WorkDir = Path.Combine(Path.GetTempPath(), "abilisfast-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(WorkDir);
        prepare?.Invoke(WorkDir);
        // STORE-MB:YES: local recipients have mailboxes (with STORE-MB:NO and no SERVER they are refused).
        Settings = TestSettings.Create([$"WDIR:{WorkDir}", "HELOHOST:mx.test", "STORE-MB:YES", .. parameters]);
        Log = new SessionLog();
        Spool = SpoolStore.Open(SpoolDir, spoolOptions, out _);
        SmtpContext? live = null;
        Mailboxes = new AbilisFast.Server.Mailboxes.MaildirStore(MailboxDir, () => (live!.Settings.MbMaxSizeBytes, live.Settings.MbMaxMails));
        Recipients = prepare is null ? null : new AbilisFast.Server.Recipients.LocalRecipients(WorkDir, Add);
        Context = new SmtpContext(Settings, Log, Spool)
        {
            Mailboxes = Mailboxes,
            Tls = tls ? AbilisFast.Server.Transport.ServerTls.Load(Settings, TimeProvider.System) : null,
            AuthUsers = tls ? new AbilisFast.Server.Access.SmtpAuthUsers(WorkDir) : null,
            Recipients = Recipients,
        };
        live = Context;
    }

    /// <summary>
    /// A context with the recipient table (WDIR/users and WDIR/aliases) as a server has it:
    /// <paramref name="prepare"/> writes those files into the new WDIR first. Without it (the other
    /// constructors) there is no table and every local part is accepted into its own folder.
    /// </summary>
    public static TestServerContext WithRecipients(Action<string> prepare, params string[] parameters) =>
        new(new SpoolOptions { SegmentSize = 4L << 20 }, parameters, tls: false, prepare);

    /// <summary>The same with the self-signed certificate and SMTP AUTH against WDIR/users (see the tls constructor).</summary>
    public static TestServerContext WithRecipients(Action<string> prepare, bool tls, params string[] parameters) =>
        new(new SpoolOptions { SegmentSize = 4L << 20 }, parameters, tls, prepare);

    /// <summary>The recipient table, when made by <see cref="WithRecipients"/>.</summary>
    public AbilisFast.Server.Recipients.LocalRecipients? Recipients { get; }

    /// <summary>What the recipient table reported (bad files, skipped targets, reloads).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Reports { get; } = new();

    private void Add(string line) => Reports.Enqueue(line);

    public string WorkDir { get; }
    public string SpoolDir => Path.Combine(WorkDir, "spool");
    public string MailboxDir => Path.Combine(WorkDir, "mailboxes");
    public AbilisFast.Server.Mailboxes.MaildirStore Mailboxes { get; }

    /// <summary>The messages delivered into one local mailbox (new/), oldest first.</summary>
    public string[] Mailbox(string name) =>
        Directory.Exists(Path.Combine(MailboxDir, name, "new"))
            ? [.. Directory.GetFiles(Path.Combine(MailboxDir, name, "new")).Order(StringComparer.Ordinal).Select(File.ReadAllText)]
            : [];
    public SmtpSettings Settings { get; }
    public SessionLog Log { get; }
    public SpoolStore Spool { get; }
    public SmtpContext Context { get; }

    public List<StoredMessage> Stored() => StoredMessages.Read(SpoolDir);

    public void Dispose()
    {
        Spool.Dispose();
        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
