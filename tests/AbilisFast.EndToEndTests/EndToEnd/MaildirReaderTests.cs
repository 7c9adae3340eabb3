namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>
/// Local mailboxes as real mail readers see them: python's smtplib and swaks hand two messages to
/// the real executable for a local mailbox, then Python's <c>mailbox.Maildir</c>, s-nail and
/// Dovecot's IMAP server read that Maildir as it is on disk and must show the exact headers and
/// text. The files have LF line ends, names with the right S= (Dovecot reports a wrong one as a
/// broken size) and W=, mode 0600 in folders of mode 0700.
/// </summary>
[Collection("EndToEnd")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class MaildirReaderTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>Message 1 exactly as python's smtplib sends it (CRLF; smtplib dot-stuffs the leading dot).</summary>
    private static readonly string First =
        "From: Sender <s@client.test>\r\nTo: reader@local.test\r\nSubject: reader test 1\r\nMessage-ID: <reader-1@client.test>\r\n"
        + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "First line of the text.\r\n.a line that starts with a dot\r\n\r\ncaf\u00e9 is 8-bit\r\n"
        + new string('x', 900) + "\r\nlast line\r\n";

    /// <summary>Message 2's text as swaks gets it on standard input (LF; swaks sends CRLF).</summary>
    private const string Second = "From: <s@client.test>\nTo: <reader@local.test>\nSubject: reader test 2\nMessage-ID: <reader-2@client.test>\n\nsecond message\n\tindented line\nend\n";

    /// <summary>Message 2 as stored: swaks ends the text with one more empty line.</summary>
    private const string SecondSent = Second + "\n";

    [Fact]
    public async Task PythonMailboxSNailAndDovecotImapReadTheDeliveredMaildirExactly()
    {
        // reader is a mail user: local domains take only real mailboxes (LOCAL-RCPT:KNOWN).
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(["reader"], ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES"]);
        string maildir = Path.Combine(server.WorkDir, "data", "mailboxes", "reader");

        const string send = """
            import smtplib, sys
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)
            s.ehlo('client.test')
            s.sendmail('s@client.test', ['reader@local.test'], sys.stdin.buffer.read())
            s.quit()
            """;
        var (exit, output) = await Tool.RunAsync("python3", ["-c", send, server.Port.ToString(CultureInfo.InvariantCulture)], stdin: First);
        Assert.True(exit == 0, output);
        await Eventually.FilesAsync(Path.Combine(maildir, "new"), 1, Wait); // keeps the order: message 1 first
        (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port}", "--from", "s@client.test", "--to", "reader@local.test", "--helo", "client.test", "--data", "-"], stdin: Second);
        Assert.True(exit == 0, output);
        string[] files = await Eventually.FilesAsync(Path.Combine(maildir, "new"), 2, Wait);
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));

        // On disk: LF only, the sizes in the name, private modes.
        string[] texts = ["", ""];
        foreach (string file in files)
        {
            byte[] bytes = await File.ReadAllBytesAsync(file);
            string text = Encoding.UTF8.GetString(bytes);
            Assert.DoesNotContain("\r", text);
            Match name = SizeFields().Match(Path.GetFileName(file));
            Assert.True(name.Success, Path.GetFileName(file));
            Assert.Equal(bytes.Length, long.Parse(name.Groups[1].Value, CultureInfo.InvariantCulture));
            Assert.Equal(bytes.Length + bytes.Count(b => b == (byte)'\n'), long.Parse(name.Groups[2].Value, CultureInfo.InvariantCulture));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            texts[text.Contains("reader test 1", StringComparison.Ordinal) ? 0 : 1] = text;
        }

        foreach (string folder in (string[])[maildir, Path.Combine(maildir, "tmp"), Path.Combine(maildir, "new"), Path.Combine(maildir, "cur")])
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        }

        string firstLf = First.Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.StartsWith("Return-Path: <s@client.test>\nDelivered-To: reader@local.test\nReceived: from client.test ([127.0.0.1])\n\tby mx.local.test (AbilisFast) with ESMTP id ", texts[0]);
        Assert.EndsWith("\n" + firstLf, texts[0]);
        Assert.StartsWith("Return-Path: <s@client.test>\nDelivered-To: reader@local.test\nReceived: ", texts[1]);
        Assert.EndsWith("\n" + SecondSent, texts[1]);

        await PythonMailboxReadsAsync(maildir, texts);
        await SNailReadsAsync(maildir);
        await DovecotServesAsync(maildir, texts);
        server.DeleteWorkDir();
    }

    /// <summary>Python's mailbox.Maildir: both messages, their bytes as stored, their headers and text parsed.</summary>
    private static async Task PythonMailboxReadsAsync(string maildir, string[] texts)
    {
        const string read = """
            import base64, json, mailbox, sys
            box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
            out = []
            for key in sorted(box.keys()):
                m = box.get_message(key)
                out.append({"subject": m["Subject"], "id": m["Message-ID"], "rp": m["Return-Path"],
                            "text": m.get_payload(decode=True).decode("utf-8"),
                            "bytes": base64.b64encode(box.get_bytes(key)).decode()})
            print(json.dumps(out))
            """;
        var (exit, output) = await Tool.RunAsync("python3", ["-c", read, maildir]);
        Assert.True(exit == 0, output);
        JsonElement[] messages = [.. JsonDocument.Parse(output).RootElement.EnumerateArray()];
        Assert.Equal(2, messages.Length);
        JsonElement one = Assert.Single(messages, m => m.GetProperty("subject").GetString() == "reader test 1");
        JsonElement two = Assert.Single(messages, m => m.GetProperty("subject").GetString() == "reader test 2");
        Assert.Equal("<reader-1@client.test>", one.GetProperty("id").GetString());
        Assert.Equal("<s@client.test>", one.GetProperty("rp").GetString());
        Assert.Equal("First line of the text.\n.a line that starts with a dot\n\ncaf\u00e9 is 8-bit\n" + new string('x', 900) + "\nlast line\n", one.GetProperty("text").GetString());
        Assert.Equal(texts[0], Encoding.UTF8.GetString(Convert.FromBase64String(one.GetProperty("bytes").GetString()!)));
        Assert.Equal("<reader-2@client.test>", two.GetProperty("id").GetString());
        Assert.Equal("second message\n\tindented line\nend\n\n", two.GetProperty("text").GetString());
        Assert.Equal(texts[1], Encoding.UTF8.GetString(Convert.FromBase64String(two.GetProperty("bytes").GetString()!)));
    }

    /// <summary>s-nail on the Maildir, read-only, no rc files: the header summary and each message printed.</summary>
    private static async Task SNailReadsAsync(string maildir)
    {
        var (exit, output) = await Tool.RunAsync("s-nail", ["-:/", "-#", "-R", "-f", "maildir://" + maildir], stdin: "set ttycharset=utf-8\nheaders\nprint 1\nprint 2\nquit\n");
        Assert.True(exit == 0, output);
        // A message stored with CRLF gives "Not a header line, skipping" and "Malformed message" here.
        Assert.DoesNotContain("Not a header line", output);
        Assert.DoesNotContain("Malformed", output);
        Assert.DoesNotContain("\r", output);
        Assert.Matches(@"\n?.*\b1 s@client\.test .*reader test 1", output);
        Assert.Matches(@"\n.*\b2 s@client\.test .*reader test 2", output);
        Assert.Contains("Subject: reader test 1\n", output);
        Assert.Contains("\n\nFirst line of the text.\n.a line that starts with a dot\n\ncaf\u00e9 is 8-bit\n" + new string('x', 900) + "\nlast line\n", output);
        Assert.Contains("Subject: reader test 2\n", output);
        Assert.Contains("\n\nsecond message\n\tindented line\nend\n\n", output);
    }

    /// <summary>Dovecot's IMAP server with the Maildir as INBOX: two messages, each header, text and size exact, and nothing logged as an error.</summary>
    private static async Task DovecotServesAsync(string maildir, string[] texts)
    {
        if (!DovecotImap.IsInstalled)
        {
            Assert.Fail("Dovecot's IMAP server is not installed (apt-get install dovecot-imapd); tools/test.sh installs it");
        }

        const string imap = """
            import base64, imaplib, json, sys
            m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
            m.login(sys.argv[2], sys.argv[3])
            typ, data = m.select('INBOX', readonly=True)
            out = {"exists": int(data[0])}
            msgs = []
            typ, data = m.fetch('1:*', '(RFC822.SIZE)')
            out["sizes"] = [d.decode() for d in data]
            for n in range(1, out["exists"] + 1):
                one = {}
                for part in ("HEADER", "TEXT", ""):
                    typ, data = m.fetch(str(n), '(BODY.PEEK[%s])' % part)
                    one[part or "ALL"] = base64.b64encode(data[0][1]).decode()
                msgs.append(one)
            out["messages"] = msgs
            m.logout()
            print(json.dumps(out))
            """;
        using DovecotImap dovecot = await DovecotImap.StartAsync(maildir);
        var (exit, output) = await Tool.RunAsync("python3", ["-c", imap, dovecot.Port.ToString(CultureInfo.InvariantCulture), DovecotImap.User, DovecotImap.Password]);
        Assert.True(exit == 0, output + dovecot.Log);
        JsonElement result = JsonDocument.Parse(output).RootElement;
        Assert.Equal(2, result.GetProperty("exists").GetInt32());
        string[] sizes = [.. result.GetProperty("sizes").EnumerateArray().Select(s => s.GetString()!)];
        JsonElement[] messages = [.. result.GetProperty("messages").EnumerateArray()];
        var seen = new HashSet<int>();
        for (int n = 0; n < messages.Length; n++)
        {
            string all = Base64(messages[n], "ALL");
            string header = Base64(messages[n], "HEADER");
            string body = Base64(messages[n], "TEXT");
            int which = all.Contains("Subject: reader test 1\r\n", StringComparison.Ordinal) ? 0 : 1;
            Assert.True(seen.Add(which), "the same message twice");
            string crlf = texts[which].Replace("\n", "\r\n", StringComparison.Ordinal);
            Assert.Equal(crlf, all);
            Assert.Equal(crlf, header + body);
            Assert.EndsWith("\r\n\r\n", header);
            Assert.Contains(which == 0 ? "\r\nMessage-ID: <reader-1@client.test>\r\n" : "\r\nMessage-ID: <reader-2@client.test>\r\n", header);
            Assert.Equal(
                which == 0 ? First[(First.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..] : SecondSent[(SecondSent.IndexOf("\n\n", StringComparison.Ordinal) + 2)..].Replace("\n", "\r\n", StringComparison.Ordinal),
                body);
            Assert.Contains($"{n + 1} (RFC822.SIZE {Encoding.UTF8.GetByteCount(crlf)})", sizes[n]);
        }

        // Dovecot checks S= against the file when it reads it ("Cached message size larger than expected").
        Assert.DoesNotContain("Error", dovecot.Log);
        Assert.DoesNotContain("Panic", dovecot.Log);
    }

    private static string Base64(JsonElement message, string part) =>
        Encoding.UTF8.GetString(Convert.FromBase64String(message.GetProperty(part).GetString()!));

    [GeneratedRegex(@"^\d+\.M\d+P\d+Q\d+_A[0-9A-F]{8}R0H[0-9A-F]{8}\.[^/:]+,S=(\d+),W=(\d+)$")]
    private static partial Regex SizeFields();
}
