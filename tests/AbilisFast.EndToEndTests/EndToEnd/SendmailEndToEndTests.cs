namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>
/// The sendmail(1) drop-in as cron, mail(1) and scripts use it: the real executable run through a
/// symbolic link named <c>sendmail</c>, fed by a cron-like pipe (<c>printf ... | sendmail -t -oi</c>,
/// run as another user who is only in the pickup folder's group) and by s-nail (<c>-S mta=LINK</c>),
/// with the server stopped (the message waits in WDIR/pickup and is delivered when it starts) and
/// running. What arrives is read from the Maildir with python's mailbox module.
/// </summary>
[Collection("EndToEnd")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SendmailEndToEndTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>The group of the pickup folders in these tests (a number: no group needs to exist).</summary>
    private const string SubmitGroup = "4242";

    /// <summary>nobody and nogroup on Debian.</summary>
    private const string Nobody = "65534";

    private static readonly string[] Parameters = ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES"];

    [Fact]
    public async Task ACronPipeFromAnotherUserWaitsForTheStoppedServerAndIsDeliveredWhenItStarts()
    {
        string workDir = ServerProcess.NewWorkDir();
        string wdir = Path.Combine(workDir, "data");
        string link = await PrepareAsync(workDir, wdir, "ops", "dev", "audit", "boss");

        // As cron does: the job's output piped into sendmail -t -oi, here as nobody in the pickup group.
        const string message = "To: Operations <ops>, dev@local.test\nCc: team: audit@local.test;\nBcc: boss@local.test\nSubject: nightly backup\n\nall good\n.\nthe dot above is text (-oi)\n";
        var (exit, output) = await ShellAsync($"printf '%s' \"$MESSAGE\" | ABILISFAST_WDIR={wdir} setpriv --reuid={Nobody} --regid={Nobody} --groups={SubmitGroup} {link} -t -oi",
            ("MESSAGE", message));
        Assert.True(exit == 0 && output.Length == 0, $"exit {exit}: {output}");
        string waiting = Assert.Single(Directory.GetFiles(Path.Combine(wdir, "pickup", "new")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(waiting));
        Assert.Empty(Directory.GetFiles(Path.Combine(wdir, "pickup", "tmp")));

        // The same user outside the group may not submit: EX_CANTCREAT and one line saying why.
        (exit, output) = await ShellAsync($"echo x | setpriv --reuid={Nobody} --regid={Nobody} --clear-groups {link} --wdir {wdir} ops@local.test");
        Assert.Equal(73, exit);
        Assert.Matches(@"^abilisfast sendmail: cannot create a file in \S+/pickup: permission denied .*\n$", output);

        using ServerProcess server = await ServerProcess.StartAsync(workDir, null, Parameters);
        foreach (string name in (string[])["ops", "dev", "audit", "boss"])
        {
            await Eventually.FilesAsync(Path.Combine(wdir, "mailboxes", name, "new"), 1, Wait);
        }

        Assert.Empty(Directory.GetFiles(Path.Combine(wdir, "pickup", "new")));
        JsonElement read = await ReadMaildirAsync(Path.Combine(wdir, "mailboxes", "boss"));
        Assert.Equal("<nobody@local.test>", read.GetProperty("Return-Path").GetString());
        Assert.Equal("nobody@local.test", read.GetProperty("From").GetString());
        Assert.Equal("Operations <ops>, dev@local.test", read.GetProperty("To").GetString());
        Assert.Equal(JsonValueKind.Null, read.GetProperty("Bcc").ValueKind);
        Assert.Matches(@"^<\d{14}\.[0-9a-f]{32}@mx\.local\.test>$", read.GetProperty("Message-ID").GetString());
        Assert.InRange(read.GetProperty("age").GetDouble(), -5, 120);
        Assert.Equal("all good\n.\nthe dot above is text (-oi)\n", read.GetProperty("body").GetString());
        Assert.Equal(1, read.GetProperty("message-ids").GetInt32());
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task SNailHandsMailToTheLinkOfARunningServer()
    {
        string workDir = ServerProcess.NewWorkDir();
        string wdir = Path.Combine(workDir, "data");
        string link = await PrepareAsync(workDir, wdir, "to", "cc", "bcc");
        using ServerProcess server = await ServerProcess.StartAsync(workDir, null, Parameters);

        // s-nail runs: LINK -i -F 'Cron Daemon' -f cron@local.test -- to@local.test cc@local.test bcc@local.test
        var (exit, output) = await Tool.RunAsync("env",
            [$"ABILISFAST_WDIR={wdir}", "s-nail", "-:/", "-S", $"mta={link}", "-S", $"sendmail={link}", "-s", "disk almost full",
             "-r", "Cron Daemon <cron@local.test>", "-c", "cc@local.test", "-b", "bcc@local.test", "to@local.test"],
            stdin: "95% used\n.\nstill text\n");
        // s-nail v14.9 warns that its old variable sendmail is now called mta; nothing else may be said.
        string said = string.Join('\n', output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.Contains("obsoleted: sendmail", StringComparison.Ordinal) && !l.Contains("use *mta* instead of *sendmail*", StringComparison.Ordinal)));
        Assert.True(exit == 0 && said.Length == 0, $"exit {exit}: {output}");

        foreach (string name in (string[])["to", "cc", "bcc"])
        {
            await Eventually.FilesAsync(Path.Combine(wdir, "mailboxes", name, "new"), 1, Wait);
        }

        JsonElement read = await ReadMaildirAsync(Path.Combine(wdir, "mailboxes", "bcc"));
        Assert.Equal("<cron@local.test>", read.GetProperty("Return-Path").GetString());
        Assert.Equal("Cron Daemon <cron@local.test>", read.GetProperty("From").GetString());
        Assert.Equal("to@local.test", read.GetProperty("To").GetString());
        Assert.Equal("cc@local.test", read.GetProperty("Cc").GetString());
        Assert.Equal(JsonValueKind.Null, read.GetProperty("Bcc").ValueKind);
        Assert.EndsWith("@local.test>", read.GetProperty("Message-ID").GetString()); // s-nail's own, not replaced
        Assert.Equal(1, read.GetProperty("message-ids").GetInt32());
        Assert.Equal("95% used\n.\nstill text\n", read.GetProperty("body").GetString());
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task EachFailureHasItsSysexitsCodeAndOneLine()
    {
        string workDir = ServerProcess.NewWorkDir();
        string wdir = Path.Combine(workDir, "data");
        string link = await PrepareAsync(workDir, wdir);
        string config = Path.Combine(workDir, "abilisfast.conf");
        File.WriteAllText(config, $"WDIR:{wdir}\n");
        (string[] Args, string Stdin, int Exit, string Line)[] cases =
        [
            (["-Z", "a@local.test"], "x\n", 64, "unknown option -Z"),
            (["-t", "--bogus"], "x\n", 64, "unknown option --bogus"),
            (["a@local.test", "-f"], "x\n", 64, "option -f needs a value"),
            (["-bs"], "x\n", 64, "-bs is not supported"),
            (["--wdir", wdir, "-oi"], "Subject: x\n\nx\n", 64, "no recipients"),
            (["--wdir", wdir, "-t"], "Subject: x\n\nx\n", 64, "none in To:, Cc: or Bcc:"),
            (["--wdir", wdir, "-f", "not an address", "a@local.test"], "x\n", 64, "-f not an address"),
            (["--wdir", wdir, "bad address"], "x\n", 67, "recipient bad address"),
            (["--wdir", wdir, "a@local.test"], "", 65, "empty message"),
            (["--wdir", Path.Combine(workDir, "no-such-dir"), "a@local.test"], "x\n", 75, "does not exist"),
            (["-C", Path.Combine(workDir, "no-such.conf"), "a@local.test"], "x\n", 78, "no such file"),
            (["-bi"], string.Empty, 0, string.Empty),
        ];
        foreach (var (args, stdin, expected, line) in cases)
        {
            var (exit, output) = await Tool.RunAsync(link, args, stdin);
            Assert.True(exit == expected, $"{string.Join(' ', args)}: exit {exit}: {output}");
            Assert.True(expected == 0 ? output.Length == 0 : output.StartsWith("abilisfast sendmail: ", StringComparison.Ordinal) && output.Contains(line, StringComparison.Ordinal) && output.Count(c => c == '\n') == 1,
                $"{string.Join(' ', args)}: {output}");
        }

        // WDIR from the configuration file named with -C, and the same through `abilisfast sendmail`.
        var (ok, said) = await Tool.RunAsync(link, ["-C", config, "-oem", "-odq", "-om", "-v", "-B", "8BITMIME", "-N", "never", "-R", "hdrs", "--", "a@local.test"], "x\n");
        Assert.True(ok == 0, said);
        Assert.Contains($"WDIR {wdir} (WDIR in {config})", said);
        (ok, said) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["sendmail", "--config", config, "-FCron", "-i", "a@local.test"], "x\n");
        Assert.True(ok == 0 && said.Length == 0, said);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(wdir, "pickup", "new")).Length);
        Directory.Delete(workDir, recursive: true);
    }

    /// <summary>
    /// WDIR with users that have the mail right, its pickup folders as the packaged unit makes them
    /// (group <see cref="SubmitGroup"/>, 0710 and 3730, WDIR 0711), and a link named sendmail; returns the link.
    /// </summary>
    private static async Task<string> PrepareAsync(string workDir, string wdir, params string[] users)
    {
        Directory.CreateDirectory(wdir);
        foreach (string user in users)
        {
            var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["user", user, "--rights", "mail", "--wdir", wdir], stdin: "Mail-user-pw-1\n");
            Assert.True(exit == 0, output);
        }

        string pickup = Path.Combine(wdir, "pickup");
        var (done, said) = await ShellAsync(
            $"install -d -g {SubmitGroup} -m 0710 {pickup} && install -d -g {SubmitGroup} -m 3730 {pickup}/tmp {pickup}/new && chmod 0711 {wdir} {workDir}");
        Assert.True(done == 0, said);
        string bin = Path.Combine(workDir, "bin");
        Directory.CreateDirectory(bin);
        string link = Path.Combine(bin, "sendmail");
        File.CreateSymbolicLink(link, ServerProcess.ExecutablePath);
        return link;
    }

    private static Task<(int ExitCode, string Output)> ShellAsync(string script, params (string Name, string Value)[] environment) =>
        Tool.RunAsync("env", [.. environment.Select(e => $"{e.Name}={e.Value}"), "/bin/sh", "-c", script]);

    /// <summary>The one message of a Maildir as python's mailbox module reads it: some fields, the text, the Date's age in seconds.</summary>
    private static async Task<JsonElement> ReadMaildirAsync(string maildir)
    {
        const string script = """
            import email.utils, json, mailbox, sys, time
            box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
            (m,) = list(box)
            out = {k: m[k] for k in ('Return-Path', 'From', 'To', 'Cc', 'Bcc', 'Message-ID', 'Subject')}
            out['age'] = time.time() - email.utils.parsedate_to_datetime(m['Date']).timestamp()
            out['message-ids'] = len(m.get_all('Message-ID') or [])
            out['body'] = m.get_payload()
            print(json.dumps(out))
            """;
        var (exit, output) = await Tool.RunAsync("python3", ["-c", script, maildir]);
        Assert.True(exit == 0, output);
        return JsonDocument.Parse(output).RootElement.Clone();
    }
}
