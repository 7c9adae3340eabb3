using System.Net;
using AbilisFast.Server.Access;
using AbilisFast.Server.Admin;
using AbilisFast.Server.Configuration;
using AbilisFast.Server.Diagnostics;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Spool;

namespace AbilisFast.Fuzz;

/// <summary>
/// The console target: what a logged-in console client sends, through the console's line reader
/// (<see cref="TelnetLineReader"/>: telnet negotiation, line ends, long and binary lines) and every
/// line through the command parser and the commands (<see cref="AdminCommands"/>) with the running
/// configuration (<c>s p smtp</c>, <c>s p ipban</c>, <c>save conf</c>), a ban list, a queue and the
/// internal-mail debug command. The first input byte picks the user's rights (modulo 4: mail, user,
/// admin, super), the second the size of the reads the stream gives (0: one read), the rest is the
/// client's bytes. Checks: nothing escapes the reader or a command (the server would answer
/// <c>ERROR: command failed</c>, but a command that throws is a bug), an error is one CRLF-ended
/// line starting <c>ERROR: </c>, and every other answer is empty or ends in CRLF.
/// The configuration, the ban list and the session log are made again for every run; the settings
/// a live <c>s p smtp</c> changed are put back after it, so runs do not depend on each other.
/// </summary>
internal sealed class ConsoleHarness : IDisposable
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(10);

    /// <summary>The configuration file the running configuration starts from (an IP list, IPBAN options, a relay server).</summary>
    private static readonly string[] ConfigLines =
    [
        "HELOHOST:mx.fuzz.test LOCAL-DOMAIN:local.test STORE-MB:YES RELAY-NET:10.1/16",
        "iplist Office: 192.0.2/24, 2001:db8::/32",
        "SERVER:relay.fuzz.test SERVER-USER:u SERVER-PWD:\"p w\"",
        "ipban MAX-FAIL:2 WHITE-LIST:Office",
    ];

    private readonly string _workDir;
    private readonly SpoolStore _spool;
    private readonly SmtpContext _context;
    private readonly SmtpSettings _settings;

    public ConsoleHarness()
    {
        string root = Environment.GetEnvironmentVariable("ABILISFAST_FUZZ_TMP") is { Length: > 0 } configured ? configured : Path.GetTempPath();
        _workDir = Path.Combine(root, "abilisfast-fuzz-console-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_workDir);
        _settings = Store().ToSettings(_workDir);
        _spool = SpoolStore.Open(
            Path.Combine(_workDir, "spool"),
            new SpoolOptions { SegmentSize = 1L << 20, Fsync = false, MinFreeBytes = 0, FreeSpaceOverride = static () => long.MaxValue },
            out _);
        _context = new SmtpContext(_settings, new SessionLog(), _spool, TimeProvider.System) { QueueControl = new FixedQueue() };
    }

    /// <summary>Runs the fuzz input; returns every answer the commands gave.</summary>
    public IReadOnlyList<string> Run(ReadOnlySpan<byte> data)
    {
        var rights = (UserRights)(data.IsEmpty ? 0 : data[0] % 4);
        int chunk = data.Length < 2 ? 0 : data[1];
        byte[] input = data.Length < 2 ? [] : data[2..].ToArray();

        ParameterStore store = Store();
        var configuration = new LiveConfiguration(store, configPath: null);
        configuration.Attach(_context);
        string banDir = Path.Combine(_workDir, "ipban");
        Directory.CreateDirectory(banDir);
        File.Delete(Path.Combine(banDir, IpBanFile.FileName));
        var bans = new IpBanService(banDir, TimeProvider.System, store.IpBan);
        configuration.Attach(bans);
        bans.RecordFailure(IPAddress.Parse("203.0.113.9"), "fuzz");
        bans.RecordFailure(IPAddress.Parse("203.0.113.9"), "fuzz");
        var commands = new AdminCommands(_context, Environment.TickCount64, configuration, bans);
        var answers = new List<string>();
        try
        {
            Task run = Task.Run(async () =>
            {
                var reader = new TelnetLineReader(new ChunkedStream(input, chunk));
                while (true)
                {
                    (TelnetLineStatus status, string text) line;
                    try
                    {
                        line = await reader.ReadLineAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (EndOfStreamException)
                    {
                        return; // the stream ended inside a telnet command: the console closes the session (AdminServer)
                    }

                    if (line.status == TelnetLineStatus.Closed)
                    {
                        return;
                    }

                    if (line.status != TelnetLineStatus.Line)
                    {
                        continue;
                    }

                    if (line.text.Any(static c => c < ' ' || c > '~'))
                    {
                        throw new FuzzInvariantException($"the line reader passed a control or non-ASCII character: {line.text}");
                    }

                    AdminCommands.Result result = commands.Execute(line.text, rights);
                    Check(line.text, result.Text);
                    answers.Add(result.Text);
                    if (result.Quit)
                    {
                        return;
                    }
                }
            });
            if (!run.Wait(RunLimit))
            {
                throw new FuzzInvariantException($"the console session did not end within {RunLimit.TotalSeconds} s");
            }

            run.GetAwaiter().GetResult();
        }
        finally
        {
            _context.ApplySettings(_settings);
            _context.Log.Verbose = false;
            _context.Log.Clear();
            while (_context.Queue.TryDequeue(out QueuedMessage queued))
            {
                _spool.MarkDone(queued.Id);
            }
        }

        return answers;
    }

    private static void Check(string line, string answer)
    {
        if (answer.StartsWith("ERROR:", StringComparison.Ordinal))
        {
            if (!answer.StartsWith("ERROR: ", StringComparison.Ordinal) || !answer.EndsWith("\r\n", StringComparison.Ordinal) || answer.AsSpan(0, answer.Length - 2).ContainsAny('\r', '\n'))
            {
                throw new FuzzInvariantException($"'{line}': the error is not one line: {answer}");
            }
        }
        else if (answer.Length > 0 && !answer.EndsWith("\r\n", StringComparison.Ordinal))
        {
            throw new FuzzInvariantException($"'{line}': the answer does not end in CRLF: {answer}");
        }
    }

    private ParameterStore Store()
    {
        var store = new ParameterStore();
        ConfigFileReader.ApplyLines(store, ConfigLines, "fuzz.conf");
        ConfigFileReader.ApplyToken(store, "WDIR:" + _workDir, "fuzz.conf");
        return store;
    }

    public void Dispose()
    {
        _spool.Dispose();
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The input as a stream that gives at most <c>chunk</c> bytes a read (0: all it can).</summary>
    private sealed class ChunkedStream(byte[] input, int chunk) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => input.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(buffer.Length, input.Length - _position);
            if (chunk > 0)
            {
                n = Math.Min(n, chunk);
            }

            input.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A queue of no messages for RETRY, HOLD, REL and DEL Q SMTP (what the console parses is under test, not the delivery engine).</summary>
    private sealed class FixedQueue : IQueueControl
    {
        public IReadOnlyList<QueueEntry> List() => [];

        public int Retry(uint? id) => Count(id);

        public int Delete(uint? id) => Count(id);

        public int Hold(uint? id) => Count(id);

        public int Release(uint? id) => Count(id);

        private static int Count(uint? id) => id is { } one ? throw new QueueControlException($"no message {one:X8} in the queue") : 0;
    }
}
