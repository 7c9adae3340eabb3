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

    private TestServerContext(SpoolOptions spoolOptions, string[] parameters, bool tls)
    {
        WorkDir = Path.Combine(Path.GetTempPath(), "abilisfast-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(WorkDir);
        // STORE-MB:YES: local recipients have mailboxes (with STORE-MB:NO and no SERVER they are refused).
        Settings = TestSettings.Create([$"WDIR:{WorkDir}", "HELOHOST:mx.test", "STORE-MB:YES", .. parameters]);
        Log = new SessionLog();
        Spool = SpoolStore.Open(SpoolDir, spoolOptions, out _);
        SmtpContext? live = null;
        Mailboxes = new AbilisFast.Server.Mailboxes.MaildirStore(MailboxDir, () => (live!.Settings.MbMaxSizeBytes, live.Settings.MbMaxMails));
        Context = new SmtpContext(Settings, Log, Spool)
        {
            Mailboxes = Mailboxes,
            Tls = tls ? AbilisFast.Server.Transport.ServerTls.Load(Settings, TimeProvider.System) : null,
            AuthUsers = tls ? new AbilisFast.Server.Access.SmtpAuthUsers(WorkDir) : null,
        };
        live = Context;
    }

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
