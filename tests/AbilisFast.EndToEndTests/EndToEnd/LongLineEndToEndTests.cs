namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>
/// Lines over 998 octets (RFC 5321 4.5.3.1.6) through the real executable: swaks hands in a
/// message with a 1,508-octet header line, a 5,000-octet body line, a 998-octet line that starts
/// with a dot and a line whose 999th octet is inside a UTF-8 character. Relayed, Postfix's smtp-sink
/// (which itself takes lines of any length) dumps what reached it: every line within 998 octets,
/// broken with CRLF SPACE as Postfix's smtp_line_length_limit does. Delivered locally, Python's
/// mailbox reads the Maildir message back with every line whole.
/// </summary>
[Collection("EndToEnd")]
public sealed class LongLineEndToEndTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private const string EndMark = "-- end --";

    /// <summary>5,000 octets, a..z repeated (python3 makes the same).</summary>
    private static readonly string LongLine = string.Concat(Enumerable.Range(0, 5000).Select(i => (char)('a' + (i % 26))));

    private static readonly string LongHeader = "X-Long: " + new string('h', 1500);

    private static readonly string DotLine = "." + new string('d', 997);

    private static readonly string Utf8Line = new string('u', 997) + "\u00e9tude";

    private static string Message(string subject) =>
        $"Subject: {subject}\n{LongHeader}\n\n{LongLine}\n{DotLine}\n{Utf8Line}\nshort line\n{EndMark}\n";

    private static async Task SwaksAsync(int port, string to, string data)
    {
        var (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--from", "s@client.test", "--to", to, "--data", "-", "--helo", "client.test"], stdin: data);
        Assert.True(exit == 0, output);
        Assert.Contains("250 2.0.0 Ok: queued as ", output);
    }

    [Fact]
    public async Task RelayedToSmtpSinkEveryLineIsWithin998OctetsAndUnfoldsToTheOriginal()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        using ServerProcess server = await ServerProcess.StartAsync(parameters:
            ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "RELAY-NET:127/8", "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{sink.Port.ToString(CultureInfo.InvariantCulture)}"]);
        await SwaksAsync(server.Port, "r@far.test", Message("relayed long lines"));

        string dump = Assert.Single(await Eventually.WaitAsync(
            () => sink.Dumps() is { Length: 1 } d && d[0].Contains(EndMark, StringComparison.Ordinal) ? d : null, "the message at smtp-sink", Wait));

        // smtp-sink stores the lines it received (dot-unstuffed, LF ends): none is over 998 octets,
        // each is valid UTF-8.
        string[] lines = dump.Split('\n');
        foreach (string line in lines)
        {
            byte[] octets = Encoding.UTF8.GetBytes(line);
            Assert.True(octets.Length <= 998, $"a line of {octets.Length} octets reached smtp-sink: {line[..Math.Min(40, line.Length)]}...");
            Assert.True(Utf8.IsValid(octets));
        }

        // The breaks are exactly where Postfix puts them: 998 octets, then SPACE + 997 per line.
        Assert.Contains("\n" + LongLine[..998] + "\n " + LongLine[998..1995] + "\n ", dump);
        Assert.Contains("\n" + LongHeader[..998] + "\n " + LongHeader[998..] + "\n", dump);

        // The dotted line went out stuffed ("..ddd", 999 octets would have been too long): broken one earlier.
        Assert.Contains("\n" + DotLine[..997] + "\n " + DotLine[997..] + "\n", dump);

        // The e-acute (2 octets) would have straddled octet 998: it starts the next line.
        Assert.Contains("\n" + new string('u', 997) + "\n \u00e9tude\n", dump);

        // Taking the inserted CRLF SPACE out gives every original line back.
        string unfolded = dump.Replace("\n ", "", StringComparison.Ordinal);
        foreach (string original in (string[])[LongHeader, LongLine, DotLine, Utf8Line, "short line", EndMark])
        {
            Assert.Contains("\n" + original + "\n", unfolded);
        }

        string log = await server.CtlAsync("debug res:smtp lsn:3");
        Assert.Matches(@"Message [0-9A-F]{8}: lines over 998 octets folded for 127\.0\.0\.1 \(8 CRLF SPACE breaks inserted\)", log);
        Assert.Matches(@"EXT-SUCC +\| +1\| +1\|", await server.CtlAsync("d s smtp"));
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task DeliveredToAMaildirTheLongLinesStayWholeForPythonsMailbox()
    {
        // user is a mail user: local domains take only real mailboxes (LOCAL-RCPT:KNOWN).
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(["user"], ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES"]);
        await SwaksAsync(server.Port, "user@local.test", Message("local long lines"));
        string maildir = Path.Combine(server.WorkDir, "data", "mailboxes", "user");
        await Eventually.WaitAsync(() => Directory.Exists(Path.Combine(maildir, "new")) && Directory.GetFiles(Path.Combine(maildir, "new")).Length == 1 ? "" : null, "the message in the Maildir", Wait);

        const string script = """
            import mailbox, re, sys
            box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
            messages = list(box)
            assert len(messages) == 1, len(messages)
            m = messages[0]
            assert m['Subject'] == 'local long lines', m['Subject']
            assert m['X-Long'] == 'h' * 1500, len(m['X-Long'])
            lines = re.split('\r?\n', m.get_payload(decode=True).decode('utf-8'))
            long_line = ''.join(chr(97 + i % 26) for i in range(5000))
            assert lines[0] == long_line, (len(lines[0]), lines[0][:40])
            assert lines[1] == '.' + 'd' * 997, len(lines[1])
            assert lines[2] == 'u' * 997 + '\u00e9tude', lines[2][-10:]
            assert lines[3] == 'short line'
            print('MAILDIR-OK', max(len(l.encode()) for l in lines))
            """;
        var (exit, output) = await Tool.RunAsync("python3", ["-c", script, maildir]);
        Assert.True(exit == 0, output);
        Assert.Contains("MAILDIR-OK 5000", output);
        Assert.DoesNotContain("folded", await server.CtlAsync("debug res:smtp lsn:3"));
        server.DeleteWorkDir();
    }
}
