using System.Text;
using AbilisFast.Server.Spool;

namespace AbilisFast.Fuzz;

/// <summary>
/// Writes the committed seed corpus (<c>AbilisFast.Fuzz seed DIR</c>): small real IN
/// transactions, segments written by the real spool writer, and record-stream programs.
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
            File.WriteAllBytes(Path.Combine(directory, name), [split, .. Encoding.UTF8.GetBytes(text)]);
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
