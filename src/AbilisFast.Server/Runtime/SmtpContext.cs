using System.Text;
using AbilisFast.Server.Channels;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Spool;

namespace AbilisFast.Server.Runtime;

/// <summary>
/// What every session shares: the settings snapshot, the channels, the spool and queues, the
/// counters and the session log, and the replies built once from the settings.
/// </summary>
internal sealed class SmtpContext : ILiveSettingsTarget
{
    private volatile Live _live;

    public SmtpContext(SmtpSettings settings, SessionLog log, SpoolStore? spool, TimeProvider? time = null)
    {
        _live = new Live(settings);
        Log = log;
        Spool = spool;
        Time = time ?? TimeProvider.System;
        Counters = new SmtpCounters(Time.GetUtcNow());
        Channels = new ChannelPool(settings.SesTot, settings.SesReservedIn, settings.SesReservedOut);
    }

    /// <summary>The settings in force; replaced whole by <see cref="ApplySettings"/> (a session reads it per use).</summary>
    public SmtpSettings Settings => _live.Settings;

    /// <summary>Where session receive and send buffers come from (a counting pool in tests).</summary>
    public System.Buffers.MemoryPool<byte> BufferPool { get; init; } = Transport.BlockMemoryPool.Instance;
    public SessionLog Log { get; }
    public SpoolStore? Spool { get; }
    public TimeProvider Time { get; }
    public ChannelPool Channels { get; }
    public SmtpCounters Counters { get; }
    public MessageQueue Queue { get; } = new();

    /// <summary>The latency histograms (accept, delivery) the metrics port and <c>d m smtp</c> show.</summary>
    public ServerMetrics Metrics { get; } = new();

    /// <summary>Inbound sessions ended by DT, DATA-TIMEOUT or MIN-DATA-RATE.</summary>
    public SessionTimeouts Timeouts { get; } = new();

    private volatile System.Net.IPEndPoint[] _listening = [];

    /// <summary>
    /// The SMTP listening sockets as bound (TCP-LOCPORT, TLS-PORT, SUBMISSION-PORT), set when the server starts: a
    /// delivery whose next hop is one of them would loop back here.
    /// </summary>
    public IReadOnlyList<System.Net.IPEndPoint> ListeningEndPoints
    {
        get => _listening;
        set => _listening = [.. value];
    }

    /// <summary>Mail loops caught: HOP-LIMIT refusals and deliveries that would loop back to this server.</summary>
    public LoopCounters Loops { get; } = new();

    /// <summary>Success and delay reports (RFC 3464), which the Abilis NOTIFY counters leave out.</summary>
    public ReportCounters Reports { get; } = new();

    /// <summary>The local mailboxes (STORE-MB:YES); null in tests that run without them.</summary>
    public Mailboxes.MaildirStore? Mailboxes { get; init; }

    /// <summary>Queue control for the console (the delivery engine), or null when nothing delivers.</summary>
    public IQueueControl? QueueControl { get; set; }

    /// <summary>The server certificate for STARTTLS and the implicit TLS port; null = no TLS (STARTTLS is not offered).</summary>
    public Transport.ServerTls? Tls { get; init; }

    /// <summary>The users SMTP AUTH checks (WDIR/users, the <c>mail</c> right); null = AUTH is not offered.</summary>
    public Access.SmtpAuthUsers? AuthUsers { get; init; }

    /// <summary>SUBMISSION-RATE: the messages each submission user started in the current minute.</summary>
    public Access.SubmissionRateLimiter SubmissionRates { get; } = new();
    /// <summary>
    /// The local recipients (WDIR/users and WDIR/aliases) RCPT checks under LOCAL-RCPT:KNOWN and
    /// that map names to mailbox folders; null in tests and benchmarks that run without them, where
    /// every local part is accepted into its own folder, as LOCAL-RCPT:ANY does.
    /// </summary>
    public Recipients.LocalRecipients? Recipients { get; init; }

    /// <summary>Recipients refused at RCPT as unknown local names.</summary>
    public Recipients.RecipientCounters RecipientCounters { get; } = new();

    /// <summary>IPBAN as sessions see it: failed AUTH attempts are counted here.</summary>
    public Access.IBanList Bans { get; set; } = Access.EmptyBanList.Instance;

    public byte[] Greeting => _live.Greeting;
    public byte[] HeloReply => _live.HeloReply;
    public byte[] EhloReply => _live.EhloReplies[0];

    /// <summary>The EHLO reply with or without the STARTTLS and AUTH lines (built once per settings).</summary>
    public byte[] EhloReplyFor(bool startTls, bool auth) => _live.EhloReplies[(startTls ? 1 : 0) | (auth ? 2 : 0)];
    public byte[] HeloHostUtf8 => _live.HeloHostUtf8;

    /// <summary>
    /// Puts changed settings in force (the console's <c>s p smtp</c>). The caller keeps the
    /// restart-only values (port, channels, WDIR) as they run; everything else applies to the next
    /// command of every session.
    /// </summary>
    public void ApplySettings(SmtpSettings settings) => _live = new Live(settings);

    /// <summary>The settings and the replies built from them, swapped as one.</summary>
    private sealed class Live
    {
        public Live(SmtpSettings settings)
        {
            Settings = settings;
            Greeting = Encoding.ASCII.GetBytes($"220 {settings.HeloHost} ESMTP AbilisFast\r\n");
            HeloReply = Encoding.ASCII.GetBytes($"250 {settings.HeloHost}\r\n");
            EhloReplies = new byte[4][];
            for (int i = 0; i < EhloReplies.Length; i++)
            {
                EhloReplies[i] = Encoding.ASCII.GetBytes(
                    $"250-{settings.HeloHost}\r\n" +
                    "250-PIPELINING\r\n" +
                    $"250-SIZE {settings.MsgMaxSizeBytes}\r\n" +
                    "250-8BITMIME\r\n" +
                    "250-ENHANCEDSTATUSCODES\r\n" +
                    "250-SMTPUTF8\r\n" +
                    "250-DSN\r\n" +
                    ((i & 1) != 0 ? "250-STARTTLS\r\n" : string.Empty) +
                    ((i & 2) != 0 ? "250-AUTH PLAIN LOGIN\r\n" : string.Empty) +
                    "250 CHUNKING\r\n");
            }
            HeloHostUtf8 = Encoding.ASCII.GetBytes(settings.HeloHost);
        }

        public SmtpSettings Settings { get; }
        public byte[] Greeting { get; }
        public byte[] HeloReply { get; }
        /// <summary>Indexed by 1 = STARTTLS offered, 2 = AUTH offered.</summary>
        public byte[][] EhloReplies { get; }
        public byte[] HeloHostUtf8 { get; }
    }

    /// <summary>Ids for messages that are not stored (sink mode): distinct, never 0.</summary>
    private uint _sinkId = (uint)Environment.TickCount;

    public uint NextSinkId()
    {
        uint id = Interlocked.Increment(ref _sinkId);
        return id == 0 ? Interlocked.Increment(ref _sinkId) : id;
    }

    /// <summary>Counts on the resource and on the channel at once.</summary>
    public void Count(SmtpChannel? channel, SmtpCounter counter, Direction direction)
    {
        Counters.Increment(counter, direction);
        channel?.Counters.Increment(counter, direction);
    }
}
