using AbilisFast.Server.Configuration;
using AbilisFast.Server.Diagnostics;
using AbilisFast.Server.Spool;

namespace AbilisFast.Server.Tests.Support;

/// <summary>A server context with a real spool in a temporary WDIR, for in-process tests.</summary>
internal sealed class TestServerContext : IDisposable
{
    public TestServerContext(params string[] parameters)
        : this(new SpoolOptions { SegmentSize = 4L << 20 }, parameters)
    {
    }

    public TestServerContext(SpoolOptions spoolOptions, params string[] parameters)
    {
        WorkDir = Path.Combine(Path.GetTempPath(), "abilisfast-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(WorkDir);
        Settings = TestSettings.Create([$"WDIR:{WorkDir}", "HELOHOST:mx.test", .. parameters]);
        Log = new SessionLog();
        Spool = SpoolStore.Open(SpoolDir, spoolOptions, out _);
        Context = new SmtpContext(Settings, Log, Spool);
    }

    public string WorkDir { get; }
    public string SpoolDir => Path.Combine(WorkDir, "spool");
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
