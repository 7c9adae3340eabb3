using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.RegularExpressions;
using AbilisFast.Server.Configuration;
using AbilisFast.Server.Delivery;
using AbilisFast.Server.Diagnostics;
using AbilisFast.Server.Mailboxes;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Sessions;
using AbilisFast.Server.Spool;
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
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(10);
    private static readonly PipeOptions InputOptions = new(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false);

    private readonly string _workDir;
    private readonly SpoolStore _spool;
    private readonly SmtpContext _context;

    public InTransactionHarness()
    {
        string root = Environment.GetEnvironmentVariable("ABILISFAST_FUZZ_TMP") is { Length: > 0 } configured ? configured : Path.GetTempPath();
        _workDir = Path.Combine(root, "abilisfast-fuzz-in-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_workDir);
        SmtpSettings settings = ConfigurationLoader.Load(CommandLine.Parse(
        [
            $"WDIR:{_workDir}", "HELOHOST:mx.fuzz.test", "LOCAL-DOMAIN:local.test", "STORE-MB:YES",
            "RELAY-NET:10.1/16", "MAX-RCPT:5", "MSG-MAXSIZE:64",
        ]));
        _spool = SpoolStore.Open(
            Path.Combine(_workDir, "spool"),
            new SpoolOptions { SegmentSize = 1L << 20, Fsync = false, MinFreeBytes = 0, FreeSpaceOverride = static () => long.MaxValue },
            out _);
        SmtpContext? live = null;
        var mailboxes = new MaildirStore(Path.Combine(_workDir, "mailboxes"), () => (live!.Settings.MbMaxSizeBytes, live.Settings.MbMaxMails));
        _context = new SmtpContext(settings, new SessionLog(), _spool, new FakeTimeProvider(FixedInstant)) { Mailboxes = mailboxes };
        live = _context;
    }

    /// <summary>Runs one session over <paramref name="input"/> delivered as one read, with its segment boundaries as built.</summary>
    public InOutcome Run(ReadOnlySequence<byte> input) =>
        Finish(Drive(new SequencePipeReader(input), feed: null));

    /// <summary>Runs one session over <paramref name="input"/> written into a real pipe in chunks of the given sizes (cycled).</summary>
    public InOutcome RunChunked(ReadOnlyMemory<byte> input, IReadOnlyList<int> chunkSizes)
    {
        ArgumentOutOfRangeException.ThrowIfZero(chunkSizes.Count);
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
        }));
    }

    /// <summary>
    /// The fuzz entry: the first byte picks the segment size the rest is cut into (0: one segment),
    /// the rest is what the client sends.
    /// </summary>
    public InOutcome RunFuzzInput(ReadOnlySpan<byte> data)
    {
        int segment = data.IsEmpty ? 0 : data[0];
        byte[] stream = data.IsEmpty ? [] : data[1..].ToArray();
        return Run(segment == 0 ? new ReadOnlySequence<byte>(stream) : Sequences.Split(stream, segment));
    }

    private string Drive(PipeReader input, Func<Task>? feed)
    {
        var transport = new MemoryTransport(input);
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
        _spool.Dispose();
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
