namespace AbilisFast.Server.Tests.Submission;

/// <summary>Where sendmail finds WDIR: --wdir, the configuration file's WDIR, $ABILISFAST_WDIR, the packaged default, in that order.</summary>
public sealed class SendmailWorkDirTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "abilisfast-sendmail-wdir-" + Guid.NewGuid().ToString("N"));

    public SendmailWorkDirTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Config(string text)
    {
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".conf");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void TheOrder()
    {
        string withWdir = Config("WDIR:/from/file\n");
        string without = Config("HELOHOST:mx.test\n");
        var env = new Dictionary<string, string> { ["ABILISFAST_WDIR"] = "/from/env" };
        string? Env(string name) => env.GetValueOrDefault(name);

        Assert.Equal(("/from/option", "--wdir"), SendmailWorkDir.Find("/from/option", withWdir, Env, File.Exists));
        Assert.Equal(("/from/file", $"WDIR in {withWdir}"), SendmailWorkDir.Find(null, withWdir, Env, File.Exists));
        Assert.Equal(("/from/env", "$ABILISFAST_WDIR"), SendmailWorkDir.Find(null, without, Env, File.Exists));
        env["ABILISFAST_CONFIG"] = withWdir;
        Assert.Equal("/from/file", SendmailWorkDir.Find(null, null, Env, File.Exists).WorkDir);
        Assert.Equal(("/var/lib/abilisfast", "the packaged default"), SendmailWorkDir.Find(null, null, _ => null, _ => false));
    }

    [Fact]
    public void ABadConfigurationFileIsExConfigWithItsLine()
    {
        string bad = Config("WDIR:/w\nNO-SUCH-PARAMETER:1\n");
        var error = new StringWriter();
        Assert.Equal(SysExits.Config, SendmailCommand.Run(["-C", bad, "a@x.test"], new MemoryStream("x\n"u8.ToArray()), TextWriter.Null, error, _ => null, File.Exists));
        Assert.StartsWith($"abilisfast sendmail: {bad}:2", error.ToString(), StringComparison.Ordinal);
    }
}
