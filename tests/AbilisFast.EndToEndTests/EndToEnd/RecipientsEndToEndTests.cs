namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>
/// Local recipients with the real executable and real clients (python's smtplib, swaks, openssl,
/// promtool): unknown names refused at RCPT, aliases, catch-alls, subaddresses and spellings
/// delivered once, users changed while the server runs, and what the operator sees.
/// </summary>
[Collection("EndToEnd")]
public sealed class RecipientsEndToEndTests
{
    private static readonly string[] Local = ["LOCAL-DOMAIN:local.test,bücher.test", "HELOHOST:mx.local.test", "STORE-MB:YES"];

    private static string Data(ServerProcess server) => Path.Combine(server.WorkDir, "data");

    private static string MailboxRoot(ServerProcess server) => Path.Combine(Data(server), "mailboxes");

    /// <summary>The messages in one mailbox's new/, line ends as LF, oldest first.</summary>
    private static string[] Mailbox(ServerProcess server, string folder)
    {
        string dir = Path.Combine(MailboxRoot(server), folder, "new");
        return Directory.Exists(dir)
            ? [.. Directory.GetFiles(dir).Order(StringComparer.Ordinal).Select(f => File.ReadAllText(f).Replace("\r\n", "\n", StringComparison.Ordinal))]
            : [];
    }

    private static string[] Folders(ServerProcess server) =>
        Directory.Exists(MailboxRoot(server)) ? [.. Directory.GetDirectories(MailboxRoot(server)).Select(Path.GetFileName).Order(StringComparer.Ordinal)!] : [];

    private static async Task SwaksAsync(ServerProcess server, string to, string body, params string[] more)
    {
        var (exit, output) = await Tool.RunAsync("swaks",
            ["--server", $"127.0.0.1:{server.Port}", "--from", "alice@client.test", "--to", to, "--helo", "client.test", "--body", body, .. more]);
        Assert.True(exit == 0, output);
    }

    private static async Task UserAsync(ServerProcess server, string password, params string[] args)
    {
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["user", .. args, "--wdir", Data(server)], stdin: password + "\n");
        Assert.True(exit == 0, output);
    }

    private static Task<(int Exit, string Output)> CtlAsync(ServerProcess server, string user, string password, string command) =>
        Tool.RunAsync(ServerProcess.ExecutablePath, ["ctl", "--user", user, "--port", server.AdminPort.ToString(CultureInfo.InvariantCulture), command], stdin: password + "\n");

    /// <summary>
    /// 1,000 made-up names, 10 per session (20 refusals would close a session with 421, as Postfix's
    /// smtpd_hard_error_limit does), each reply printed as CODE ENHANCED.
    /// </summary>
    private const string DictionaryAttack = """
        import smtplib, sys, uuid
        port, total, per = int(sys.argv[1]), int(sys.argv[2]), 10
        for start in range(0, total, per):
            s = smtplib.SMTP('127.0.0.1', port, timeout=20)
            s.ehlo('attacker.test')
            s.mail('spam@attacker.test')
            for i in range(per):
                code, text = s.rcpt('%s@local.test' % uuid.uuid4().hex[:12])
                print('RCPT', code, text.decode().split(' ')[0])
            s.quit()
        """;

    [Fact]
    public async Task ADictionaryAttackOfAThousandNamesGets550EachCreatesNoFolderAndIsCounted()
    {
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(["bob"], Local);
        var (exit, output) = await Tool.RunAsync("python3", ["-c", DictionaryAttack, server.Port.ToString(CultureInfo.InvariantCulture), "1000"], timeout: TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, output);
        string[] replies = [.. output.Split('\n').Where(l => l.StartsWith("RCPT ", StringComparison.Ordinal))];
        Assert.Equal(1000, replies.Length);
        Assert.All(replies, r => Assert.Equal("RCPT 550 5.1.1", r));
        Assert.Empty(Folders(server));

        // The counter is in the machine-readable statistics; d s smtp keeps the Abilis layout.
        string metrics = await server.CtlAsync("d m smtp");
        Assert.Contains("# TYPE abilisfast_smtp_rcpt_refused counter\n", metrics);
        Assert.Contains("abilisfast_smtp_rcpt_refused_total{reason=\"unknown-local\"} 1000\n", metrics);
        string statistics = await server.CtlAsync("d s smtp");
        Assert.Equal(8, statistics.Split('\n').Count(l => l.StartsWith("       ", StringComparison.Ordinal) && l.Contains('|', StringComparison.Ordinal)));
        Assert.DoesNotContain("unknown", statistics, StringComparison.OrdinalIgnoreCase);

        // VRFY from smtplib tells a real user from a made-up name no better than RCPT does: 252 to both.
        const string vrfy = """
            import smtplib, sys
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)
            s.ehlo('attacker.test')
            for name in ('bob@local.test', 'nobody@local.test', 'bob'):
                code, text = s.verify(name)
                print('VRFY', code, text.decode())
            s.quit()
            """;
        (exit, output) = await Tool.RunAsync("python3", ["-c", vrfy, server.Port.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(exit == 0, output);
        string[] answers = [.. output.Split('\n').Where(l => l.StartsWith("VRFY ", StringComparison.Ordinal))];
        Assert.Equal(3, answers.Length);
        Assert.StartsWith("VRFY 252 ", answers[0]);
        Assert.All(answers, a => Assert.Equal(answers[0], a));

        // The operator sees who tried what; the real user still gets mail.
        string log = await server.CtlAsync("debug res:smtp lsn:3");
        Assert.Matches(@"127\.0\.0\.1 <spam@attacker\.test>: RCPT TO:<[0-9a-f]{12}@local\.test> refused: 550 5\.1\.1 Recipient address rejected: no such user here", log);
        await SwaksAsync(server, "bob@local.test", "for bob");
        Assert.Single(await Eventually.WaitAsync(() => Mailbox(server, "bob") is { Length: 1 } m ? m : null, "bob's message"));
        Assert.Equal(["bob"], Folders(server));
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task AliasesCatchAllsSubaddressesAndSpellingsAreDeliveredOncePerMailbox()
    {
        string workDir = ServerProcess.NewWorkDir();
        ServerProcess.AddMailUsers(workDir, "bob", "carol");
        await File.WriteAllTextAsync(Path.Combine(workDir, "data", "aliases"), """
            # team mail
            team: bob,
              carol
            info: team, bob+info
            @bücher.test: carol
            """);
        using ServerProcess server = await ServerProcess.StartAsync(workDir, null, Local);
        Assert.Contains("recipients: 2 mail user(s), 2 alias(es), 1 catch-all(s)", server.Stderr);

        // One transaction naming bob five ways: one copy in bob's mailbox (as Postfix delivers one
        // copy per final mailbox), and the catch-all and the alias give carol one copy too.
        await SwaksAsync(server, "Bob@Local.TEST,BOB@local.test,bob+alerts@local.test,info@local.test,whoever@xn--bcher-kva.test", "five ways");
        string bob = Assert.Single(await Eventually.WaitAsync(() => Mailbox(server, "bob") is { Length: > 0 } m ? m : null, "bob's copy"));
        string carol = Assert.Single(await Eventually.WaitAsync(() => Mailbox(server, "carol") is { Length: > 0 } m ? m : null, "carol's copy"));
        Assert.Contains("five ways", bob);
        Assert.StartsWith("Return-Path: <alice@client.test>\nX-Original-To: Bob@Local.TEST\nDelivered-To: bob@local.test\n", bob);
        Assert.Contains("five ways", carol);

        // A subaddress alone, and a UTF-8 domain in both forms from smtplib (SMTPUTF8): one copy each.
        await SwaksAsync(server, "bob+news@local.test", "extension");
        const string script = """
            import smtplib, sys
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)
            s.ehlo('client.test')
            s.sendmail('alice@client.test', ['carol@bücher.test', 'Carol@XN--BCHER-KVA.test', 'carol@BÜCHER.test'],
                       'Subject: idn\r\n\r\nidn spellings\r\n'.encode(), mail_options=['SMTPUTF8'])
            s.quit()
            """;
        var (exit, output) = await Tool.RunAsync("python3", ["-c", script, server.Port.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(exit == 0, output);
        string[] bobs = await Eventually.WaitAsync(() => Mailbox(server, "bob") is { Length: 2 } m ? m : null, "bob's second message");
        Assert.Contains("X-Original-To: bob+news@local.test\nDelivered-To: bob@local.test\n", bobs[1]);
        string[] carols = await Eventually.WaitAsync(() => Mailbox(server, "carol") is { Length: 2 } m ? m : null, "carol's IDN message");
        Assert.Contains("idn spellings", carols[1]);
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(2, Mailbox(server, "bob").Length);
        Assert.Equal(2, Mailbox(server, "carol").Length);
        Assert.Equal(["bob", "carol"], Folders(server));
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task RelayedRecipientsReachTheNextHopAsWrittenWhileLocalSpellingsGiveOneCopy()
    {
        // Postfix's smtp-sink is SERVER, the next hop for everything that is not local.test; it
        // dumps each transaction with an X-Rcpt-Args line per RCPT it was given.
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        string workDir = ServerProcess.NewWorkDir();
        ServerProcess.AddMailUsers(workDir, "bob");
        await File.WriteAllTextAsync(Path.Combine(workDir, "data", "aliases"), "ops: bob, Ops@Partner.TEST\n");
        using ServerProcess server = await ServerProcess.StartAsync(workDir, null,
            [.. Local, "RELAY-NET:127/8", "MAIL-TRY-DELAY:1", "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{sink.Port.ToString(CultureInfo.InvariantCulture)}"]);

        // Three spellings of one remote address and two of a local one, plus an alias that
        // includes bob and a remote address of its own: the next hop decides what the remote
        // spellings mean, so it gets each as written; bob's mailbox gets one copy.
        await SwaksAsync(server, "Carl@Far.TEST,CARL@far.test,carl@far.test,Bob@Local.TEST,BOB@local.test,ops@local.test", "spellings");
        string[] dumps = await Eventually.WaitAsync(
            () => sink.Dumps() is { Length: > 0 } d && string.Concat(d).Split("X-Rcpt-Args: ").Length - 1 == 4 && d.All(x => x.Contains("spellings", StringComparison.Ordinal)) ? d : null,
            "four recipients at smtp-sink", TimeSpan.FromSeconds(30));
        string rcpts = string.Join('\n', string.Concat(dumps).Split('\n').Where(l => l.StartsWith("X-Rcpt-Args: ", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        // The alias's remote target carries the address the client wrote as its ORCPT (RFC 3461 4.2;
        // smtp-sink advertises DSN), so a report from further on names the address that was given.
        Assert.Equal("X-Rcpt-Args: <CARL@far.test>\nX-Rcpt-Args: <Carl@Far.TEST>\nX-Rcpt-Args: <Ops@Partner.TEST> ORCPT=rfc822;ops@local.test\nX-Rcpt-Args: <carl@far.test>", rcpts);

        string bob = Assert.Single(await Eventually.WaitAsync(() => Mailbox(server, "bob") is { Length: > 0 } m ? m : null, "bob's copy"));
        Assert.Contains("spellings", bob);
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        Assert.Single(Mailbox(server, "bob"));
        Assert.Equal(["bob"], Folders(server));
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task UsersChangedWhileTheServerRunsCountAtTheNextLoginAndAuth()
    {
        using ServerProcess server = await ServerProcess.StartAsync(parameters: [.. Local, "AUTH-PLAINTEXT:YES"]);
        string first = server.AdminPassword;
        Assert.Equal(0, (await CtlAsync(server, "admin", first, "d d smtp")).Exit);

        // A new console password: the next login takes it, the old one is refused.
        await UserAsync(server, "changed pass 1", "admin", "--rights", "admin");
        Assert.Equal(0, (await CtlAsync(server, "admin", "changed pass 1", "d d smtp")).Exit);
        var (oldExit, oldOutput) = await CtlAsync(server, "admin", first, "d d smtp");
        Assert.True(oldExit == 5, oldOutput);

        // A mail user added now: SMTP AUTH at once, and RCPT too.
        await UserAsync(server, "mail-pass-1", "carol", "--rights", "mail");
        await SwaksAsync(server, "carol@local.test", "authenticated", "--auth", "PLAIN", "--auth-user", "carol", "--auth-password", "mail-pass-1");
        await UserAsync(server, "mail-pass-2", "carol", "--rights", "mail");
        var (refused, refusedOutput) = await Tool.RunAsync("swaks",
            ["--server", $"127.0.0.1:{server.Port}", "--auth", "PLAIN", "--auth-user", "carol", "--auth-password", "mail-pass-1", "--from", "a@client.test", "--to", "carol@local.test", "--helo", "client.test"]);
        Assert.NotEqual(0, refused);
        Assert.Contains("535 5.7.8", refusedOutput);
        await SwaksAsync(server, "carol@local.test", "new password", "--auth", "PLAIN", "--auth-user", "carol", "--auth-password", "mail-pass-2");

        // The failed AUTH is in the session log with the client and the name, never the password.
        string log = (await CtlAsync(server, "admin", "changed pass 1", "debug res:smtp lsn:3")).Output;
        Assert.Contains("AUTH: 127.0.0.1 failed to authenticate as 'carol'", log);
        Assert.DoesNotContain("mail-pass-1", log);

        var (listExit, list) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["user", "--list", "--wdir", Data(server)]);
        Assert.True(listExit == 0, list);
        Assert.Matches(@"(?m)^admin +admin +-$", list);
        Assert.Matches(@"(?m)^carol +mail +carol$", list);

        // Deleted: no more AUTH, and RCPT refuses the name (its mail stays in the folder).
        var (deleteExit, deleted) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["user", "--delete", "carol", "--wdir", Data(server)]);
        Assert.True(deleteExit == 0, deleted);
        var (gone, goneOutput) = await Tool.RunAsync("swaks",
            ["--server", $"127.0.0.1:{server.Port}", "--from", "a@client.test", "--to", "carol@local.test", "--helo", "client.test"]);
        Assert.NotEqual(0, gone);
        Assert.Contains("550 5.1.1", goneOutput);
        Assert.Equal(2, (await Eventually.WaitAsync(() => Mailbox(server, "carol") is { Length: 2 } m ? m : null, "carol's two messages")).Length);
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task AFirstStartAfterAMailUserWasAddedStillCreatesAnAdmin()
    {
        string workDir = ServerProcess.NewWorkDir();
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["user", "bob", "--rights", "mail", "--wdir", Path.Combine(workDir, "data")], stdin: "bob's pass\n");
        Assert.True(exit == 0, output);

        using ServerProcess server = await ServerProcess.StartAsync(workDir, null, Local);
        Assert.Contains("abilisfast: no user has admin rights: console user 'admin' created; its password is in ", server.Stderr);
        string password = server.AdminPassword;
        Assert.NotEmpty(password);
        Assert.Equal(0, (await CtlAsync(server, "admin", password, "d d smtp")).Exit);

        // postmaster (RFC 5321 4.5.1) goes to that admin's mailbox; bob gets his own mail.
        await SwaksAsync(server, "postmaster@local.test,bob@local.test", "to both");
        Assert.Single(await Eventually.WaitAsync(() => Mailbox(server, "admin") is { Length: 1 } m ? m : null, "the postmaster's message"));
        Assert.Single(await Eventually.WaitAsync(() => Mailbox(server, "bob") is { Length: 1 } m ? m : null, "bob's message"));
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));

        // The next start finds an admin: none is created again.
        using ServerProcess again = await ServerProcess.StartAsync(workDir, null, Local);
        Assert.DoesNotContain("console user", again.Stderr);
        again.DeleteWorkDir();
    }

    [Fact]
    public async Task TheAliasesFileIsFollowedAndABadOneKeepsThePreviousAliases()
    {
        string workDir = ServerProcess.NewWorkDir();
        ServerProcess.AddMailUsers(workDir, "bob");
        string aliases = Path.Combine(workDir, "data", "aliases");
        using ServerProcess server = await ServerProcess.StartAsync(workDir, null, Local);
        await SwaksAsync(server, "bob@local.test", "warm up");

        await File.WriteAllTextAsync(aliases, "sales: bob\n");
        await Eventually.WaitAsync(() => server.Stderr.Contains($"aliases: {aliases} read again: 1 entry", StringComparison.Ordinal) ? "" : null, "the aliases read again");
        await SwaksAsync(server, "sales@local.test", "via sales");

        await File.WriteAllTextAsync(aliases, "sales: bob\nsupport: |/usr/bin/ticket\n");
        await Eventually.WaitAsync(() => server.Stderr.Contains($"aliases: {aliases}:2: 'support': program targets (|command) are refused", StringComparison.Ordinal) ? "" : null, "the refusal");
        await SwaksAsync(server, "sales@local.test", "still via sales");

        await File.WriteAllTextAsync(aliases, "sales: support\nsupport: sales\n");
        await Eventually.WaitAsync(() => server.Stderr.Contains($"aliases: {aliases}:2: alias loop: sales -> support -> sales; the aliases read before stay in force", StringComparison.Ordinal) ? "" : null, "the loop");
        await SwaksAsync(server, "sales@local.test", "after the loop");

        await server.SignalAsync("HUP");
        await Eventually.WaitAsync(() => server.Stderr.Contains("recipients: 1 mail user(s)", StringComparison.Ordinal) && server.Stderr.Split('\n').Count(l => l.Contains("recipients: ", StringComparison.Ordinal)) >= 2 ? "" : null, "the SIGHUP line");
        string log = await server.CtlAsync("debug res:smtp lsn:3");
        Assert.Contains("alias loop: sales -> support -> sales", log);
        Assert.Equal(4, (await Eventually.WaitAsync(() => Mailbox(server, "bob") is { Length: 4 } m ? m : null, "bob's four messages")).Length);
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task InternalMailIsNeverRefusedAndABounceToAnUnknownLocalSenderReachesThePostmaster()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync("-f", "rcpt");
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(["bob"],
            [.. Local, "RELAY-NET:127/8", "MAIL-TRY-DELAY:1", "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{sink.Port.ToString(CultureInfo.InvariantCulture)}"]);

        // lsn:4 and sendmail to a name no user has: delivered (internal mail is not refused).
        Assert.Contains("queued", await server.CtlAsync("debug res:smtp lsn:4 cmd:postmaster@local.test:ops@local.test:from the console:hello ops"), StringComparison.OrdinalIgnoreCase);
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["sendmail", "--wdir", Data(server), "bob+cron@local.test"], stdin: "Subject: cron\n\ncron output\n");
        Assert.True(exit == 0, output);
        Assert.Contains("hello ops", Assert.Single(await Eventually.WaitAsync(() => Mailbox(server, "ops") is { Length: 1 } m ? m : null, "the console's mail to ops")));
        Assert.Contains("cron output", Assert.Single(await Eventually.WaitAsync(() => Mailbox(server, "bob") is { Length: 1 } m ? m : null, "the cron mail")));

        // A relayed message from a made-up local sender bounces: the notification goes to the
        // postmaster (the admin's mailbox), and no folder is made for the made-up name.
        await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port}", "--from", "ghost@local.test", "--to", "r@far.test", "--helo", "client.test", "--body", "doomed"]);
        string dsn = Assert.Single(await Eventually.WaitAsync(() => Mailbox(server, "admin") is { Length: 1 } m ? m : null, "the notification in the postmaster's mailbox", TimeSpan.FromSeconds(30)));
        Assert.Contains("Final-Recipient: rfc822; r@far.test", dsn);
        Assert.DoesNotContain("ghost", Folders(server));
        Assert.Contains("Notification to ghost@local.test, which is no local user or alias: delivered to the postmaster's mailbox", await server.CtlAsync("debug res:smtp lsn:3"));
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task TlsErrorsAreSentencesNotResourceKeys()
    {
        int tlsPort = ServerProcess.FreePort();
        using ServerProcess server = await ServerProcess.StartAsync(parameters: [.. Local, $"TLS-PORT:{tlsPort.ToString(CultureInfo.InvariantCulture)}"]);

        // A TLS 1.1 client (openssl), and a client that sends a plain SMTP command to the TLS port.
        await Tool.RunAsync("sh", ["-c", $"echo Q | openssl s_client -connect 127.0.0.1:{tlsPort} -tls1_1 >/dev/null 2>&1"]);
        const string plain = """
            import socket, sys, time
            s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
            s.sendall(b'EHLO client.test\r\n')
            time.sleep(0.5)
            s.close()
            """;
        var (exit, output) = await Tool.RunAsync("python3", ["-c", plain, tlsPort.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(exit == 0, output);
        string log = await Eventually.WaitAsync(async () =>
        {
            string text = await server.CtlAsync("debug res:smtp lsn:3");
            return text.Split('\n').Count(l => l.Contains("TLS handshake with", StringComparison.Ordinal)) >= 2 ? text : null;
        }, "two TLS failures in the session log");
        string[] failures = [.. log.Split('\n').Where(l => l.Contains("TLS handshake with", StringComparison.Ordinal))];
        // OpenSSL refuses TLS 1.1 with "unsupported protocol" or, at a security level that leaves no
        // TLS 1.1 cipher, "no shared cipher": either way a sentence.
        Assert.True(failures.Any(l => Regex.IsMatch(l, "TLS handshake with 127.0.0.1 failed: the TLS handshake failed: no (TLS version|cipher suite) in common")), string.Join('\n', failures));
        Assert.Contains(failures, l => l.Contains("TLS handshake with 127.0.0.1 failed: the other side does not speak TLS here (it sent plain text or something else)", StringComparison.Ordinal));
        Assert.DoesNotContain("net_", log, StringComparison.Ordinal);
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task CheckConfigReadsTheAliasesAsAStartWould()
    {
        string workDir = ServerProcess.NewWorkDir();
        string data = Path.Combine(workDir, "data");
        ServerProcess.AddMailUsers(workDir, "bob");
        string aliases = Path.Combine(data, "aliases");
        await File.WriteAllTextAsync(aliases, "team: bob, ghost\n");
        var (ok, okOutput) = await ServerProcess.CheckConfigAsync("--wdir", data, "LOCAL-DOMAIN:local.test", "STORE-MB:YES");
        Assert.True(ok == 0, okOutput);
        Assert.Contains($"abilisfast: aliases: {aliases}:1: 'ghost' is not a user with the mail right, an alias or postmaster/abuse/root: skipped", okOutput);
        Assert.Contains("; 1 mail user(s), 1 alias(es), 0 catch-all(s))", okOutput);

        await File.WriteAllTextAsync(aliases, "team: bob\nbob: team\n");
        var (loop, loopOutput) = await ServerProcess.CheckConfigAsync("--wdir", data, "LOCAL-DOMAIN:local.test");
        Assert.Equal(2, loop);
        Assert.Contains($"abilisfast: aliases: {aliases}:2: alias loop: team -> bob -> team", loopOutput);
        Directory.Delete(workDir, recursive: true);
    }

    [Fact]
    public async Task HelpListsEverySubcommandAndTheDocumentationShowsItExactly()
    {
        var (exit, help) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["--help"]);
        Assert.Equal(0, exit);
        foreach (string command in (string[])["\n  user      NAME --rights ", "\n            --list [--wdir DIR]\n", "\n            --delete NAME [--wdir DIR]\n", "\n  ctl       ", "\n  sendmail  ", "\n  dkim      keygen ", "LOCAL-RCPT", "RECIPIENT-DELIMITER"])
        {
            Assert.Contains(command, help, StringComparison.Ordinal);
        }

        string doc = await File.ReadAllTextAsync(Path.Combine(ServerProcess.RepositoryRoot(), "docs", "configuration.md"));
        Match block = Regex.Match(doc, "This is the output of `abilisfast --help`:\n\n```\n(.*?)```\n", RegexOptions.Singleline);
        Assert.True(block.Success, "the --help block in docs/configuration.md");
        Assert.Equal(help, block.Groups[1].Value);
    }
}
