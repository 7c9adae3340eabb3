using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AbilisFast.Server.Access;
using AbilisFast.Server.Configuration;
using AbilisFast.Server.Delivery;
using AbilisFast.Server.Diagnostics;
using AbilisFast.Server.Mailboxes;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Sessions;
using AbilisFast.Server.Spool;
using AbilisFast.Server.Transport;
using AbilisFast.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AbilisFast.Fuzz;

/// <summary>What one IN session answered and stored, with message ids replaced by <c>ID</c>.</summary>
/// <param name="Replies">Every reply byte the session sent, as Latin-1 text.</param>
/// <param name="Messages">Each queued message: its envelope in hex, a blank line, its body as Latin-1 text.</param>
internal sealed record InOutcome(string Replies, IReadOnlyList<string> Messages);

/// <summary>
/// Runs whole IN sessions (line reader, command parser, the IN state machine, DATA and BDAT) over
/// in-memory pipes against a real spool, the way the session tests and the IN benchmark do, and
/// checks what came out: every reply well formed, as many messages queued as
/// <c>250 ... queued as</c> replies, every queued message readable back from the spool with an
/// envelope that decodes and a text without bare CR or LF.
/// The context (settings, spool with fsync off, mailboxes) is made once per harness and reused by
/// every run; each run's messages are marked done afterwards, so the spool stays small. Its WDIR
/// is under <c>ABILISFAST_FUZZ_TMP</c> when set, else the system temporary directory.
/// </summary>
internal sealed partial class InTransactionHarness : IDisposable
{
    /// <summary>The AUTH user of <see cref="InOptions.Auth"/> (a <c>mail</c> user in WDIR/users).</summary>
    public const string AuthUser = "fuzz";

    /// <summary>Its password.</summary>
    public const string AuthPassword = "secret";

    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(10);
    private static readonly PipeOptions InputOptions = new(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false);
    private static readonly IPAddress Outsider = IPAddress.Loopback;
    private static readonly IPAddress RelayClient = IPAddress.Parse("10.1.0.7");

    private readonly string _workDir;
    private readonly Dictionary<InOptions, (SpoolStore Spool, SmtpContext Context)> _contexts = [];
    private SpoolStore _spool = null!;
    private SmtpContext _context = null!;

    public InTransactionHarness()
    {
        string root = Environment.GetEnvironmentVariable("ABILISFAST_FUZZ_TMP") is { Length: > 0 } configured ? configured : Path.GetTempPath();
        _workDir = Path.Combine(root, "abilisfast-fuzz-in-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_workDir);
        Use(InOptions.None);
    }

    /// <summary>
    /// Makes the session context for <paramref name="options"/> current (made once per combination
    /// of the options that change the configuration, then reused).
    /// </summary>
    private void Use(InOptions options)
    {
        InOptions key = options & InOptions.Configuration;
        if (!_contexts.TryGetValue(key, out var made))
        {
            string workDir = Path.Combine(_workDir, ((byte)key).ToString("x2", CultureInfo.InvariantCulture));
            Directory.CreateDirectory(workDir);
            var args = new List<string> { $"WDIR:{workDir}", "HELOHOST:mx.fuzz.test", "LOCAL-DOMAIN:local.test", "STORE-MB:YES", "RELAY-NET:10.1/16" };
            if ((key & InOptions.DefaultLimits) == 0)
            {
                args.AddRange(["MAX-RCPT:5", "MSG-MAXSIZE:64", "HOP-LIMIT:3"]);
            }

            if ((key & InOptions.Auth) != 0)
            {
                args.AddRange(["AUTH-PLAINTEXT:YES", "RELAY-AUTH:ENABLED"]);
                WriteUsers(workDir);
            }

            if ((key & InOptions.TlsRequired) != 0)
            {
                args.Add("TLS-REQUIRED:YES");
            }

            SmtpSettings settings = ConfigurationLoader.Load(CommandLine.Parse([.. args]));
            SpoolStore spool = SpoolStore.Open(
                Path.Combine(workDir, "spool"),
                new SpoolOptions { SegmentSize = 1L << 20, Fsync = false, MinFreeBytes = 0, FreeSpaceOverride = static () => long.MaxValue },
                out _);
            SmtpContext? live = null;
            var mailboxes = new MaildirStore(Path.Combine(workDir, "mailboxes"), () => (live!.Settings.MbMaxSizeBytes, live.Settings.MbMaxMails));
            var time = new FakeTimeProvider(FixedInstant);
            live = new SmtpContext(settings, new SessionLog(), spool, time)
            {
                Mailboxes = mailboxes,
                AuthUsers = (key & InOptions.Auth) != 0 ? new SmtpAuthUsers(workDir) : null,
                Tls = (key & InOptions.Tls) != 0 ? ServerTls.Load(settings, time) : null,
            };
            made = (spool, live);
            _contexts[key] = made;
        }

        (_spool, _context) = made;
    }

    /// <summary>WDIR/users with <see cref="AuthUser"/> as a <c>mail</c> user; 1,000 PBKDF2 rounds (the least the file takes), so a right password costs little.</summary>
    private static void WriteUsers(string workDir)
    {
        const int iterations = 1000;
        byte[] salt = "fuzz-salt-16byte"u8.ToArray();
        byte[] hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(AuthPassword), salt, iterations, HashAlgorithmName.SHA256, 32);
        File.WriteAllText(
            Path.Combine(workDir, "users"),
            $"{AuthUser}:mail:pbkdf2-sha256:{iterations}:{Convert.ToBase64String(salt)}:{Convert.ToBase64String(hash)}\n");
    }

    /// <summary>Runs one session over <paramref name="input"/> delivered as one read, with its segment boundaries as built.</summary>
    public InOutcome Run(ReadOnlySequence<byte> input, InOptions options = InOptions.None)
    {
        Use(options);
        return Finish(Drive(new SequencePipeReader(input), feed: null, options));
    }

    /// <summary>Runs one session over <paramref name="input"/> written into a real pipe in chunks of the given sizes (cycled).</summary>
    public InOutcome RunChunked(ReadOnlyMemory<byte> input, IReadOnlyList<int> chunkSizes)
    {
        ArgumentOutOfRangeException.ThrowIfZero(chunkSizes.Count);
        Use(InOptions.None);
        var pipe = new Pipe(InputOptions);
        return Finish(Drive(pipe.Reader, feed: async () =>
        {
            int position = 0;
            int next = 0;
            while (position < input.Length)
            {
                int size = Math.Clamp(chunkSizes[next++ % chunkSizes.Count], 1, input.Length - position);
                FlushResult flushed = await pipe.Writer.WriteAsync(input.Slice(position, size)).ConfigureAwait(false);
                position += size;
                if (flushed.IsCompleted)
                {
                    break;
                }

                await Task.Yield();
            }

            await pipe.Writer.CompleteAsync().ConfigureAwait(false);
        }, InOptions.None));
    }

    /// <summary>
    /// The fuzz entry: the first byte is the <see cref="InOptions"/>, the second the segment size
    /// the rest is cut into (0: one segment), the rest is what the client sends.
    /// </summary>
    public InOutcome RunFuzzInput(ReadOnlySpan<byte> data)
    {
        var options = (InOptions)(data.IsEmpty ? 0 : data[0] & (byte)InOptions.All);
        int segment = data.Length < 2 ? 0 : data[1];
        byte[] stream = data.Length < 2 ? [] : data[2..].ToArray();
        return Run(segment == 0 ? new ReadOnlySequence<byte>(stream) : Sequences.Split(stream, segment), options);
    }

    private string Drive(PipeReader input, Func<Task>? feed, InOptions options)
    {
        var transport = new MemoryTransport(
            input,
            (options & InOptions.RelayClient) != 0 ? RelayClient : Outsider,
            (options & InOptions.HandshakeFails) != 0 ? MemoryTransport.TlsHandshake.Fails : MemoryTransport.TlsHandshake.Succeeds);
        var session = new InSession(_context);
        Task run = Task.Run(() => session.RunAsync(transport, channel: null));
        Task feeding = feed is null ? Task.CompletedTask : Task.Run(feed);
        if (!run.Wait(RunLimit))
        {
            throw new FuzzInvariantException($"the session did not end within {RunLimit.TotalSeconds} s");
        }

        run.GetAwaiter().GetResult(); // rethrows what escaped the session: any exception is a finding
        input.Complete();
        if (!feeding.Wait(RunLimit))
        {
            throw new FuzzInvariantException("the input pipe did not drain");
        }

        feeding.GetAwaiter().GetResult();
        transport.Replies.Writer.Complete();
        var replies = new StringBuilder();
        PipeReader reader = transport.Replies.Reader;
        while (true)
        {
            ReadResult result = reader.ReadAsync().AsTask().GetAwaiter().GetResult();
            foreach (ReadOnlyMemory<byte> memory in result.Buffer)
            {
                replies.Append(Encoding.Latin1.GetString(memory.Span));
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        reader.Complete();
        return replies.ToString();
    }

    private InOutcome Finish(string replies)
    {
        CheckReplies(replies);
        var messages = new List<string>();
        while (_context.Queue.TryDequeue(out QueuedMessage queued))
        {
            string id = SpoolIds.Format(queued.Id);
            byte[] envelope = _spool.ReadEnvelope(queued.Id) ?? throw new FuzzInvariantException($"queued message {id} has no envelope in the spool");
            if (!Envelope.TryRead(envelope, out _))
            {
                throw new FuzzInvariantException($"queued message {id} has an envelope that does not decode");
            }

            byte[] body;
            using (Stream stream = _spool.OpenBody(queued.Id))
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                body = copy.ToArray();
            }

            if (body.Length < queued.Size)
            {
                throw new FuzzInvariantException($"queued message {id}: {body.Length} body bytes, fewer than the {queued.Size} the session counted");
            }

            if (BareLineEnd(body) is int at and >= 0)
            {
                throw new FuzzInvariantException($"queued message {id} holds a bare CR or LF at offset {at}");
            }

            _spool.MarkDone(queued.Id);
            string text = Encoding.Latin1.GetString(body).Replace($" id {id};", " id ID;", StringComparison.Ordinal);
            messages.Add(Convert.ToHexString(envelope) + "\n\n" + text);
        }

        int queuedReplies = QueuedAs().Count(replies);
        if (queuedReplies != messages.Count)
        {
            throw new FuzzInvariantException($"{queuedReplies} 'queued as' replies but {messages.Count} messages queued");
        }

        return new InOutcome(QueuedAs().Replace(replies, "queued as ID"), messages);
    }

    /// <summary>Every reply line: three digits (first 2 to 5), space or hyphen, text without CR or LF, CRLF; the first is a 220.</summary>
    private static void CheckReplies(string replies)
    {
        if (!replies.StartsWith("220 ", StringComparison.Ordinal))
        {
            throw new FuzzInvariantException("no greeting: " + Shorten(replies));
        }

        if (!replies.EndsWith("\r\n", StringComparison.Ordinal))
        {
            throw new FuzzInvariantException("the replies do not end in CRLF: " + Shorten(replies));
        }

        foreach (string line in replies[..^2].Split("\r\n"))
        {
            if (!ReplyLine().IsMatch(line))
            {
                throw new FuzzInvariantException("malformed reply line: " + Shorten(line));
            }
        }
    }

    /// <summary>Offset of the first CR not followed by LF or LF not preceded by CR, or -1: stored text is CRLF only (see the README on smuggling).</summary>
    private static int BareLineEnd(ReadOnlySpan<byte> body)
    {
        for (int i = 0; i < body.Length; i++)
        {
            if ((body[i] == (byte)'\r' && (i + 1 == body.Length || body[i + 1] != (byte)'\n'))
                || (body[i] == (byte)'\n' && (i == 0 || body[i - 1] != (byte)'\r')))
            {
                return i;
            }
        }

        return -1;
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";

    [GeneratedRegex(@"^[2-5][0-9][0-9][ -][^\r\n]*$")]
    private static partial Regex ReplyLine();

    [GeneratedRegex("queued as [0-9A-F]{8}")]
    private static partial Regex QueuedAs();

    public void Dispose()
    {
        foreach ((SpoolStore spool, _) in _contexts.Values)
        {
            spool.Dispose();
        }

        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The instant the clock stays at, so the Received: header and the envelope are the same in every run.</summary>
    private static readonly DateTimeOffset FixedInstant = new(2026, 11, 29, 6, 0, 0, TimeSpan.Zero);
}

/// <summary>How the <c>in</c> target sets up one session: the first byte of its input.</summary>
[Flags]
internal enum InOptions : byte
{
    /// <summary>MAX-RCPT:5, MSG-MAXSIZE:64, HOP-LIMIT:3; no AUTH, no TLS; the client outside RELAY-NET.</summary>
    None = 0,

    /// <summary>WDIR/users holds a <c>mail</c> user (see <see cref="InTransactionHarness.AuthUser"/>); AUTH-PLAINTEXT:YES, RELAY-AUTH:ENABLED.</summary>
    Auth = 1,

    /// <summary>A certificate is loaded: STARTTLS is offered, and the in-memory handshake succeeds unless <see cref="HandshakeFails"/>.</summary>
    Tls = 2,

    /// <summary>TLS-REQUIRED:YES.</summary>
    TlsRequired = 4,

    /// <summary>MAX-RCPT, MSG-MAXSIZE and HOP-LIMIT at their defaults.</summary>
    DefaultLimits = 8,

    /// <summary>The STARTTLS handshake fails.</summary>
    HandshakeFails = 16,

    /// <summary>The client's address is in RELAY-NET.</summary>
    RelayClient = 32,

    /// <summary>The options that change the configuration (one context each).</summary>
    Configuration = Auth | Tls | TlsRequired | DefaultLimits,

    All = Configuration | HandshakeFails | RelayClient,
}
