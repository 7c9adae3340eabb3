using System.Text;
using AbilisFast.Server.Spool;

namespace AbilisFast.Fuzz;

/// <summary>
/// Writes the committed seeds (<c>AbilisFast.Fuzz seed DIR</c>, into DIR/TARGET/): small real IN
/// sessions (AUTH, STARTTLS, DSN, BDAT, pipelining), segments written by the real spool writer,
/// record-stream programs, console command lines, configuration files (the sample the server
/// writes among them), message headers and paths.
/// </summary>
internal static class SeedCorpus
{
    private const string Ehlo = "EHLO client.test\r\n";
    private const string Envelope = "MAIL FROM:<a@client.test>\r\nRCPT TO:<b@local.test>\r\n";

    public static async Task WriteAsync(string root)
    {
        WriteIn(Path.Combine(root, FuzzTargets.In));
        await WriteSpoolAsync(Path.Combine(root, FuzzTargets.Spool)).ConfigureAwait(false);
        WriteRecords(Path.Combine(root, FuzzTargets.SpoolRecords));
        WriteConsole(Path.Combine(root, FuzzTargets.Console));
        WriteConfig(Path.Combine(root, FuzzTargets.Config));
        WriteReceived(Path.Combine(root, FuzzTargets.Received));
        WritePath(Path.Combine(root, FuzzTargets.Path));
        WriteEsmtp(Path.Combine(root, FuzzTargets.Esmtp));
    }

    /// <summary>The ESMTP seeds: the first byte picks the parser (see <see cref="EsmtpHarness"/>).</summary>
    public static IReadOnlyList<(string Name, byte Parser, string Text)> EsmtpSeeds { get; } =
    [
        ("mail-all", 0, " SIZE=100 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id+2B1 AUTH=bob+2Bx@client.test"),
        ("mail-auth-null", 0, " AUTH=<>"),
        ("mail-no-auth-offered", 1, " SIZE=1 AUTH=<>"),
        ("mail-bad", 0, " RET=NONE ENVID=a+2b SIZE=-1 BODY=BINARYMIME X-FOO=1"),
        ("rcpt-all", 2, " NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;b+2Bc@local.test"),
        ("rcpt-never", 2, " NOTIFY=NEVER ORCPT=utf-8;x"),
        ("bdat", 3, "1024 LAST"),
    ];

    private static void WriteEsmtp(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach ((string name, byte parser, string text) in EsmtpSeeds)
        {
            File.WriteAllBytes(Path.Combine(directory, name), [parser, .. Encoding.ASCII.GetBytes(text)]);
        }
    }

    /// <summary>"\0fuzz\0secret" in base64: the harness's AUTH user.</summary>
    private const string PlainCredentials = "AGZ1enoAc2VjcmV0";

    /// <summary>The client's TLS handshake for the in-memory transport (see <see cref="MemoryTransport.TlsHandshake"/>).</summary>
    private const string Hello = "\u0016\u0003";

    /// <summary>IN sessions with options other than the default (the first byte, see <see cref="InOptions"/>).</summary>
    public static IReadOnlyList<(string Name, InOptions Options, byte Split, string Text)> InSessions { get; } =
    [
        ("auth-plain", InOptions.Auth, 0, Ehlo + "AUTH PLAIN " + PlainCredentials + "\r\nMAIL FROM:<a@client.test> AUTH=fuzz@client.test\r\nRCPT TO:<x@remote.test>\r\nDATA\r\nSubject: relayed\r\n\r\nhi\r\n.\r\nQUIT\r\n"),
        ("auth-plain-challenge", InOptions.Auth, 0, Ehlo + "AUTH PLAIN\r\n" + PlainCredentials + "\r\nAUTH PLAIN " + PlainCredentials + "\r\nQUIT\r\n"),
        ("auth-login", InOptions.Auth, 5, Ehlo + "AUTH LOGIN\r\nZnV6eg==\r\nc2VjcmV0\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@local.test>\r\nBDAT 3 LAST\r\nabcQUIT\r\n"),
        ("auth-login-initial", InOptions.Auth, 0, Ehlo + "AUTH LOGIN ZnV6eg==\r\nd3Jvbmc=\r\nAUTH LOGIN\r\n*\r\nAUTH PLAIN =\r\nAUTH CRAM-MD5\r\nAUTH PLAIN *\r\nAUTH PLAIN !!!!\r\nQUIT\r\n"),
        ("auth-before-ehlo", InOptions.Auth, 0, "HELO client.test\r\nAUTH PLAIN " + PlainCredentials + "\r\nAUTH\r\n"),
        ("starttls-auth", InOptions.Auth | InOptions.Tls, 0, Ehlo + "STARTTLS\r\n" + Hello + Ehlo + "AUTH PLAIN " + PlainCredentials + "\r\nSTARTTLS\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<x@remote.test>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n"),
        ("starttls-pipelined", InOptions.Tls, 0, Ehlo + "STARTTLS\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@local.test>\r\n"),
        ("starttls-injected", InOptions.Tls, 0, Ehlo + "STARTTLS\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@local.test>\r\n" + Hello + "MAIL FROM:<c@client.test>\r\n" + Ehlo + "QUIT\r\n"),
        ("starttls-argument", InOptions.Tls, 0, Ehlo + "STARTTLS now\r\nSTARTTLS\r\nQUIT\r\n"),
        ("starttls-fails", InOptions.Tls | InOptions.HandshakeFails, 0, Ehlo + "STARTTLS\r\nQUIT\r\n"),
        ("tls-required", InOptions.Tls | InOptions.TlsRequired | InOptions.Auth, 0, Ehlo + "MAIL FROM:<a@client.test>\r\nAUTH PLAIN " + PlainCredentials + "\r\nSTARTTLS\r\n" + Hello + Ehlo + "MAIL FROM:<a@client.test>\r\nRCPT TO:<b@local.test>\r\nDATA\r\nx\r\n.\r\n"),
        ("starttls-not-offered", InOptions.None, 0, Ehlo + "STARTTLS\r\nAUTH PLAIN " + PlainCredentials + "\r\nQUIT\r\n"),
        ("relay-client-dsn", InOptions.RelayClient | InOptions.DefaultLimits, 0, Ehlo + "MAIL FROM:<a@client.test> RET=FULL ENVID=QQ+2B1 SIZE=20\r\nRCPT TO:<x@remote.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;x+40remote.test\r\nRCPT TO:<y@remote.test> NOTIFY=NEVER\r\nRCPT TO:<z@remote.test> NOTIFY=FAILURE,NEVER\r\nRCPT TO:<w@remote.test> ORCPT=utf-8;w\\x{E9}\r\nDATA\r\nSubject: dsn\r\n\r\nx\r\n.\r\nQUIT\r\n"),
        ("hop-limit", InOptions.None, 0, Ehlo + Envelope + "DATA\r\nReceived: from a\r\nReceived: from b\r\n\tby c\r\nRECEIVED : from d\r\nSubject: loop\r\n\r\nbody\r\n.\r\n" + Envelope + "BDAT 44 LAST\r\nReceived: x\r\nReceived: y\r\nReceived: z\r\n\r\n"),
        ("pipelined-group", InOptions.DefaultLimits, 0, Ehlo + "MAIL FROM:<a@client.test> BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<b@local.test>\r\nRCPT TO:<pel\u00e9@local.test>\r\nRCPT TO:<nobody@remote.test>\r\nDATA\r\nSubject: caf\u00e9\r\n\r\n8bit \u00e9\r\n.\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<postmaster>\r\nBDAT 10\r\n0123456789BDAT 0 LAST\r\nQUIT\r\n"),
        ("bdat-errors", InOptions.DefaultLimits, 0, Ehlo + "BDAT 5\r\nhello" + Envelope + "BDAT x\r\nBDAT 5 LAST extra\r\nBDAT 99999999999999999999\r\nDATA\r\nBDAT 2\r\n\r\nDATA\r\n.\r\n"),
    ];

    /// <summary>The IN transactions: the first byte is the segment size the harness cuts the rest into (0: one segment).</summary>
    public static IReadOnlyList<(string Name, byte Split, string Text)> InTransactions { get; } =
    [
        ("transaction", 0, Ehlo + Envelope + "DATA\r\nSubject: hi\r\n\r\nhello\r\n..leading dot\r\n.\r\nQUIT\r\n"),
        ("transaction-split-1", 1, Ehlo + Envelope + "DATA\r\nSubject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n"),
        ("helo-pipelined-rset", 7, "HELO client.test\r\nMAIL FROM:<>\r\nRCPT TO:<postmaster>\r\nRSET\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@local.test>\r\nRCPT TO:<c@local.test>\r\nDATA\r\nx\r\n.\r\nNOOP\r\nQUIT\r\n"),
        ("two-messages", 0, Ehlo + Envelope + "DATA\r\none\r\n.\r\n" + Envelope + "DATA\r\ntwo\r\n.\r\n"),
        ("bdat", 0, Ehlo + "MAIL FROM:<a@client.test> BODY=8BITMIME\r\nRCPT TO:<b@local.test>\r\nBDAT 5\r\nhelloBDAT 8 LAST\r\n\r\nworld\r\nQUIT\r\n"),
        ("bdat-binary", 3, Ehlo + "MAIL FROM:<a@client.test> BODY=BINARYMIME\r\nRCPT TO:<b@local.test>\r\nBDAT 0\r\nBDAT 4 LAST\r\n\r\n.\rRSET\r\n"),
        ("parameters", 0, Ehlo + "MAIL FROM:<a@client.test> SIZE=100 RET=HDRS ENVID=abc SMTPUTF8\r\nRCPT TO:<b@local.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@local.test\r\nDATA\r\nx\r\n.\r\n"),
        ("bad-lines", 0, "HELO\r\nFOO bar\r\nMAIL <a@b.test>\r\nRCPT TO:<b@local.test>\r\nDATA\r\nEHLO x\nNOOP\r\nMAIL FROM:<a@b.test> SIZE=abc\r\nMAIL FROM:<a@b.test> SIZE=99999999\r\n" + new string('A', 600) + "\r\nRSET x\r\nVRFY\r\nVRFY user\r\nEXPN list\r\nHELP\r\nNOOP\r\n"),
        ("relay-and-routes", 0, Ehlo + "MAIL FROM:<a@client.test>\r\nRCPT TO:<x@remote.test>\r\nRCPT TO:<@a.test,@b.test:u@local.test>\r\nRCPT TO:<u%v@local.test>\r\nRCPT TO:<\"q@x\"@local.test>\r\nRCPT TO:<pel\u00e9@local.test>\r\nRCPT TO:<b@local.test>\r\nDATA\r\n.\r\n"),
        ("smuggling", 0, Ehlo + Envelope + "DATA\r\na\n.\nb\r.\rc\r\n.\nd\n.\r\ne\r\n.\0\r\nf\r\n.\r\n"),
        ("too-many-recipients", 0, Ehlo + "MAIL FROM:<a@client.test>\r\n" + string.Concat(Enumerable.Range(0, 7).Select(static i => $"RCPT TO:<r{i}@local.test>\r\n")) + "DATA\r\nbody\r\n.\r\n"),
        ("http", 0, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("unterminated-data", 2, Ehlo + Envelope + "DATA\r\nno end"),
    ];

    private static void WriteIn(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach ((string name, byte split, string text) in InTransactions)
        {
            File.WriteAllBytes(Path.Combine(directory, name), [(byte)InOptions.None, split, .. Encoding.UTF8.GetBytes(text)]);
        }

        foreach ((string name, InOptions options, byte split, string text) in InSessions)
        {
            File.WriteAllBytes(Path.Combine(directory, name), [(byte)options, split, .. Encoding.UTF8.GetBytes(text)]);
        }
    }

    /// <summary>Console sessions: rights (0 mail, 1 user, 2 admin, 3 super), read size, then the lines.</summary>
    private static void WriteConsole(string directory)
    {
        Directory.CreateDirectory(directory);
        (string Name, byte Rights, byte Chunk, string Text)[] sessions =
        [
            ("display", 1, 0, "d d smtp\r\nd de smtp\r\nd s smtp\r\nd se smtp\r\nd p smtp\r\nd q smtp\r\nd m smtp\r\nd d ipban\r\nd p ipban\r\nhelp\r\n?\r\nd x smtp\r\nd d\r\nquit\r\n"),
            ("user-refused", 1, 3, "s p smtp DT:60\r\nsave conf\r\nclear s smtp\r\nretry q smtp all\r\ndebug res:smtp lsn:3\r\nbye\r\n"),
            ("set-parameters", 2, 0, "s p smtp DT:60\r\nS P SMTP MAX-RCPT:7\r\ns p smtp RELAY-NET:10.0/8,192.168.1.0/24\r\ns p smtp SES-RESERVED-IN:999\r\ns p smtp NOPE:1\r\ns p smtp DT\r\ns p smtp WDIR:/tmp/x\r\ns p smtp SERVER-PWD:\"a b\"\r\ns p smtp LOCAL-DOMAIN:a.test, b.test\r\nd p smtp\r\nsave conf\r\nsave\r\n"),
            ("ipban", 3, 0, "s p ipban MAX-FAIL:3\r\ns p ipban ALERT-TO:a@b.test, c@d.test\r\ns p ipban WHITE-LIST:Office,10.0.0.0/8\r\ns p ipban BAN-TIME:0\r\ns p ipban NOPE\r\nd d ipban\r\nclear ipban 203.0.113.9\r\nclear ipban 203.0.113.9\r\nclear ipban nothing\r\nd p ipban\r\n"),
            ("queue-and-debug", 2, 7, "retry q smtp all\r\nhold q smtp 0000002A\r\nrel q smtp ALL\r\ndel q smtp xyz\r\ndel q smtp\r\ndebug res:smtp\r\ndebug res:smtp lsn:0\r\ndebug res:smtp lsn:1\r\ndebug res:smtp lsn:3\r\ndebug res:smtp lsn:3 cmd:clr\r\ndebug res:smtp lsn:4 cmd:a@local.test:b@local.test, c@local.test:Test:hello: world\r\ndebug res:smtp lsn:4 cmd:x\r\ndebug res:smtp lsn:9\r\nclear s smtp\r\n"),
            ("telnet", 2, 1, "\u00ff\u00fb\u0018\u00ff\u00fa\u0018\u0000xterm\u00ff\u00f0d d smtp\r\u0000help\rd s smtp\n\u00ff\u00ff\r\n\u0001bin\r\n" + new string('x', 300) + "\r\nd\tp smtp\r\n\u00ff"),
        ];
        foreach ((string name, byte rights, byte chunk, string text) in sessions)
        {
            File.WriteAllBytes(Path.Combine(directory, name), [rights, chunk, .. Encoding.Latin1.GetBytes(text)]);
        }
    }

    private static void WriteConfig(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "sample"), AbilisFast.Server.Configuration.SampleConfig.Build());
        File.WriteAllText(Path.Combine(directory, "lists-and-ipban"), """
            # lists, IPBAN and quoting
            iplist Office: 192.0.2/24, 2001:db8::/32
            iplist Branch: Office, 10.1.0.0/16  # a list of a list
            IPSRC:ENABLED IPSRCLIST:Office RELAY-IPSRCLIST:Branch
            ipban MAX-FAIL:3 FIND-TIME:10 BAN-TIME:60 WHITE-LIST:Office ACTION:BAN,MAIL ALERT-TO:"root@local.test, ops@local.test"
            SERVER:relay.test SERVER-TCP-PORT:587 SERVER-AUTH:YES SERVER-USER:u SERVER-PWD:"p \"w\" #1"
            RELAY-NET:# LOCAL-DOMAIN:a.test,b.test HOP-LIMIT:30 MSG-MAXSIZE:1024 DT:120
            """);
        File.WriteAllText(Path.Combine(directory, "invalid-sessions"), "SES-TOT:10 SES-RESERVED-IN:6 SES-RESERVED-OUT:6\nDKIM-DOMAIN:d.test DKIM-SELECTOR:a,b DKIM-KEY:/k\n");
        File.WriteAllText(Path.Combine(directory, "everything"), "ACT:YES LOG:ALL TCP-LOCPORT:2525 SRCADD:127.0.0.1 DT:60 MAX-IP-SES:3 MAX-RCPT:50 WDIR:/var/lib/abilisfast\r\n"
            + "HELOHOST:mx.test STORE-MB:YES MB-MAXSIZE:100 MB-MAXMAILS:10 QUEUE-LIFE-TIME:5 MAIL-TRY-DELAY:10 QUEUE-HOLD:NO MX-PORT:25 MX-TLS:MAY\r\n"
            + "TLS-CERT:/etc/c.pem TLS-KEY:/etc/k.pem TLS-REQUIRED:NO AUTH-PLAINTEXT:NO TLS-PORT:465 OUT-TIMEOUT:30 DATA-TIMEOUT:600 MIN-DATA-RATE:100\r\n"
            + "DATA-RATE-WINDOW:30 LOG-MAX-SIZE:10 LOG-FILES:3 SERVER-SECURITY:STARTTLS SERVER-TLS-VERIFY:YES SERVER-TLS-PIN:sha256/AAAA SERVER-TLS-CA:/ca.pem\r\n"
            + "ADMIN-ADDR:127.0.0.1 ADMIN-PORT:2323 DNS:127.0.0.1:53 METRICS-PORT:9100 METRICS-ADDR:::1 METRICS-TOKEN:t NODENAME:node1 SINK:NO DELAY-NOTIF-TIME:4 MAX-FAIL-NOTIF:5\r\n");
    }

    private static void WriteReceived(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "three"), "\u0000Received: from a by b; Sat, 5 Dec 2026 10:00:00 +0000\r\nreceived :x\r\nX-Received: no\r\nSubject: s\r\n\tReceived: folded\r\nRECEIVED\t:y\r\n\r\nReceived: body\r\n", Encoding.Latin1);
        File.WriteAllText(Path.Combine(directory, "cut"), "\u0007Received: a\r\nReceiv\r\nReceived: b\r\n", Encoding.Latin1);
        File.WriteAllText(Path.Combine(directory, "not-a-header"), "\u0003 Received: first line folded\r\nReceived: x\r\n", Encoding.Latin1);
    }

    private static void WritePath(string directory)
    {
        Directory.CreateDirectory(directory);
        (string Name, byte Kind, string Text)[] paths =
        [
            ("mail-params", 0, "<a@client.test> SIZE=100 BODY=8BITMIME"),
            ("null", 0, "<>"),
            ("postmaster", 1, "<postmaster>"),
            ("route", 1, "<@a.test,@b.test:u@local.test>"),
            ("quoted", 1, " <\"q x\\\"\"@local.test>"),
            ("literal", 1, "<u@[192.0.2.1]>"),
            ("literal-v6", 0, "<u@[IPv6:2001:db8::1]>"),
            ("utf8", 1, "<pel\u00e9@exampl\u00e9.test>"),
            ("percent", 1, "<u%v@local.test>"),
        ];
        foreach ((string name, byte kind, string text) in paths)
        {
            File.WriteAllBytes(Path.Combine(directory, name), [kind, .. Encoding.UTF8.GetBytes(text)]);
        }
    }

    private static async Task WriteSpoolAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        await WriteSegmentAsync(Path.Combine(directory, "three-messages-done-retry"), async spool =>
        {
            uint first = await SpoolHarness.WriteCheckedMessageAsync(spool, Body(1, 100), 77).ConfigureAwait(false);
            uint second = await SpoolHarness.WriteCheckedMessageAsync(spool, Body(2, 700), 77).ConfigureAwait(false);
            await SpoolHarness.WriteCheckedMessageAsync(spool, [], 77).ConfigureAwait(false);
            spool.WriteRetry(first, "retry-state"u8);
            spool.MarkDone(second);
        }).ConfigureAwait(false);
        await WriteSegmentAsync(Path.Combine(directory, "committed-then-torn"), async spool =>
        {
            await SpoolHarness.WriteCheckedMessageAsync(spool, Body(3, 300), 300).ConfigureAwait(false);
            SpoolWriter partial = spool.BeginMessage(spool.NextId());
            partial.Write(Body(4, 600)); // two Data records reach the file, no commit
        }).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="write"/> on a fresh spool and copies its one segment, without the trailing zeros, to <paramref name="file"/>.</summary>
    private static async Task WriteSegmentAsync(string file, Func<SpoolStore, Task> write)
    {
        string directory = Path.Combine(Path.GetTempPath(), "abilisfast-seed-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            using (SpoolStore spool = SpoolStore.Open(directory, SpoolHarness.Options(), out _))
            {
                await write(spool).ConfigureAwait(false);
            }

            string segment = Directory.GetFiles(directory, "seg-*.jnl").Order(StringComparer.Ordinal).First();
            byte[] bytes = File.ReadAllBytes(segment);
            int used = SpoolRecord.Align(Array.FindLastIndex(bytes, static b => b != 0) + 1);
            File.WriteAllBytes(file, bytes.AsSpan(0, Math.Min(used, bytes.Length)).ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void WriteRecords(string directory)
    {
        Directory.CreateDirectory(directory);
        // op: kind | (id - 1) << 3 | sequence mode << 5 | bad length << 7; then a length byte and, for Data and Retry, the payload.
        byte[] hello = "hello world"u8.ToArray();
        File.WriteAllBytes(Path.Combine(directory, "data-data-commit"), [0, 5, .. hello[..5], 0, 6, .. hello[5..], 2, 0]);
        File.WriteAllBytes(Path.Combine(directory, "two-ids-interleaved-done"), [0, 3, 1, 2, 3, 8, 2, 9, 8, 2, 0, 2, 0, 4, 0, 5, 4, 7, 7, 7, 7]);
        File.WriteAllBytes(Path.Combine(directory, "abort-restart-gap"), [0, 2, 1, 1, 3, 0, 0x20, 1, 9, 0x40, 1, 8, 2, 0, 0x20, 1, 5, 2, 0]);
        File.WriteAllBytes(Path.Combine(directory, "bad-length-garbage"), [0, 4, 1, 2, 3, 4, 0x82, 0, 7, 3, 0x20, 2, 1, 2, 2, 0]);
    }

    private static byte[] Body(int seed, int length)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
