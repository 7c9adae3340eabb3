namespace AbilisFast.Fuzz;

/// <summary>
/// The fuzz targets by name, and the one entry point that afl-fuzz, the repro mode and the CI test
/// all call. Neither the IN session, the ESMTP parsers nor spool recovery documents any exception for bad input (a
/// session answers bad input with a reply and survives a closed connection; recovery "never throws
/// on content"), so nothing may escape <see cref="Run"/>: every exception, including the harness's
/// own <see cref="FuzzInvariantException"/>, is a finding.
/// </summary>
internal sealed class FuzzTargets : IDisposable
{
    /// <summary>Whole IN sessions (line reader, command parser, state machine, AUTH, STARTTLS, DATA, BDAT) in memory (see <see cref="InTransactionHarness"/>).</summary>
    public const string In = "in";

    /// <summary>Spool recovery of a raw segment file.</summary>
    public const string Spool = "spool";

    /// <summary>Spool recovery of a segment built from sealed records (see <see cref="RecordStream"/>).</summary>
    public const string SpoolRecords = "spool-records";

    /// <summary>The console's line reader and commands (see <see cref="ConsoleHarness"/>).</summary>
    public const string Console = "console";

    /// <summary>The configuration file reader and parameter validation (see <see cref="ConfigHarness"/>).</summary>
    public const string Config = "config";

    /// <summary>The Received: hop counter (see <see cref="ReceivedHarness"/>).</summary>
    public const string Received = "received";

    /// <summary>The MAIL FROM / RCPT TO path parser (see <see cref="PathHarness"/>).</summary>
    public const string Path = "path";

    /// <summary>The ESMTP syntax alone: MAIL and RCPT parameters, the BDAT argument (see <see cref="EsmtpHarness"/>).</summary>
    public const string Esmtp = "esmtp";

    /// <summary>The aliases file parser and the recipient table built from it (see <see cref="AliasesHarness"/>).</summary>
    public const string Aliases = "aliases";

    public static readonly IReadOnlyList<string> Names = [In, Spool, SpoolRecords, Console, Config, Received, Path, Esmtp, Aliases];

    private InTransactionHarness? _in;
    private SpoolHarness? _spool;
    private ConsoleHarness? _console;
    private ConfigHarness? _config;
    private AliasesHarness? _aliases;

    public static bool IsTarget(string name) => Names.Contains(name, StringComparer.Ordinal);

    /// <summary>Runs <paramref name="data"/> through <paramref name="target"/>; throws whatever the code under test or a check threw.</summary>
    public void Run(string target, ReadOnlySpan<byte> data)
    {
        switch (target)
        {
            case In:
                (_in ??= new InTransactionHarness()).RunFuzzInput(data);
                break;
            case Spool:
                (_spool ??= new SpoolHarness()).Recover(data);
                break;
            case SpoolRecords:
                (_spool ??= new SpoolHarness()).RecoverRecordStream(data);
                break;
            case Console:
                (_console ??= new ConsoleHarness()).Run(data);
                break;
            case Config:
                (_config ??= new ConfigHarness()).Run(data);
                break;
            case Received:
                ReceivedHarness.Run(data);
                break;
            case Path:
                PathHarness.Run(data);
                break;
            case Esmtp:
                EsmtpHarness.Run(data);
                break;
            case Aliases:
                (_aliases ??= new AliasesHarness()).Run(data);
                break;
            default:
                throw new ArgumentException($"unknown target '{target}' (known: {string.Join(", ", Names)})", nameof(target));
        }
    }

    public void Dispose()
    {
        _in?.Dispose();
        _spool?.Dispose();
        _console?.Dispose();
        _config?.Dispose();
        _aliases?.Dispose();
    }
}
