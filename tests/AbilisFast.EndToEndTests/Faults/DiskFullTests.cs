namespace AbilisFast.Server.Tests.Faults;

/// <summary>
/// WDIR on a small tmpfs that really fills up. The spool preallocates 16 MiB segments and wants a
/// 16 MiB reserve besides, so MAIL is refused with <c>452 4.3.1</c> while less than 32 MiB (plus the
/// declared size) is free; a message whose text needs a new segment when there is no room for one
/// gets <c>451 4.3.0</c> and is dropped. Nothing accepted before is damaged, and the next message
/// after space returns is taken. The server says when the disk is full and when space is back, once
/// each, on standard error and in the session log. Under load from real clients (Postfix's
/// smtp-source and swaks) with the disk filled in the middle, every message acknowledged with 250
/// is delivered exactly once when space returns, and no other.
/// </summary>
[Collection("EndToEnd")]
public sealed partial class DiskFullTests
{
    private const string Tag = "full";

    /// <summary>Room for one segment and the reserve, not for two: a filler file pushes it under.</summary>
    private const int DiskMegabytes = 72;

    /// <summary>Free space the filler leaves: under the 32 MiB that a new segment and its reserve need.</summary>
    private const long LeftFree = 24L << 20;

    /// <summary>Longer than what is left of the first 16 MiB segment, so the text needs a second one.</summary>
    private const int BigLines = 17 * 1024 * 1024 / 64;

    /// <summary>The statvfs reading at MAIL is refreshed every 200 ms: wait past that after the disk changed.</summary>
    private static Task FreeSpaceSeenAsync() => Eventually.LetTimePassAsync(TimeSpan.FromMilliseconds(400), "the cached statvfs reading expires");

    [TmpfsFact]
    public async Task AFullDiskRefusesMailKeepsWhatWasAcceptedAndRecoversWhenSpaceReturns()
    {
        using Tmpfs disk = Tmpfs.Mount(DiskMegabytes);
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        string password;
        using (ServerProcess server = await ServerProcess.StartAsync(disk.Path, parameters: FaultRig.Relaying(sink.Port, "QUEUE-HOLD:YES")))
        {
            password = server.AdminPassword;
            await using SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(server.Port);
            Assert.StartsWith("250 2.0.0", await SendAsync(client, 1)); // the first segment is allocated now

            // The disk fills up: MAIL is refused before any text is sent.
            string filler = disk.Fill("filler", disk.Available - LeftFree);
            await FreeSpaceSeenAsync();
            Assert.StartsWith("452 4.3.1", await client.CommandAsync("MAIL FROM:<s@client.test>"));
            // The log line goes out on stderr beside the reply: wait for it, then count it.
            await Eventually.WaitAsync(() => server.Stderr.Contains("spool: disk almost full: ", StringComparison.Ordinal), "the disk-full line on stderr");
            Assert.Single(Regex.Matches(server.Stderr, "spool: disk almost full: "));
            Assert.Contains("new mail gets 452 4.3.1 at MAIL until space returns", await server.CtlAsync("debug res:smtp lsn:3"));

            // Space returns: MAIL passes; the disk fills up again while the text comes, and the
            // text outgrows the first segment: no room for a second one, so the write fails.
            File.Delete(filler);
            await FreeSpaceSeenAsync();
            Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<s@client.test>"));
            await Eventually.WaitAsync(() => server.Stderr.Contains("spool: space is back: ", StringComparison.Ordinal), "the space-is-back line on stderr");
            Assert.Single(Regex.Matches(server.Stderr, "spool: space is back: "));
            Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<r2@far.test>"));
            Assert.StartsWith("354", await client.CommandAsync("DATA"));
            filler = disk.Fill("filler", disk.Available - LeftFree);
            var big = new StringBuilder(FaultRig.Message(Tag, 2).Replace(FaultRig.EndMark + "\r\n", string.Empty, StringComparison.Ordinal));
            for (int i = 0; i < BigLines; i++)
            {
                big.Append("a long message that does not fit in what is left of the segment\r\n"[..62]).Append("\r\n");
            }

            string? failed = await client.CommandAsync(big.Append(FaultRig.EndMark).Append("\r\n.").ToString());
            Assert.StartsWith("451 4.3.0", failed);
            string log = await server.CtlAsync("debug res:smtp lsn:3");
            Assert.Contains(" not queued: spool: not enough free space for a new segment", log);

            // Still full: refused at MAIL again, the session is still usable.
            Assert.StartsWith("452 4.3.1", await client.CommandAsync("MAIL FROM:<s@client.test>"));

            // Space returns for good: the next message is taken (into a new segment).
            File.Delete(filler);
            await FreeSpaceSeenAsync();
            Assert.StartsWith("250 2.0.0", await SendAsync(client, 3));
            Assert.False(server.HasExited);
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        // Nothing accepted was damaged: a restart recovers both and delivers them; the refused ones never existed.
        using (ServerProcess again = await ServerProcess.StartAsync(disk.Path, parameters: FaultRig.Relaying(sink.Port)))
        {
            again.KnownAdminPassword = password;
            Assert.Contains("2 message(s) recovered", again.Stderr);
            Assert.DoesNotContain("quarantined", again.Stderr);
            await Eventually.WaitAsync(() => FaultRig.Delivered(sink, Tag).Count == 2, "both accepted messages at smtp-sink", TimeSpan.FromSeconds(20));
            await FaultRig.WaitForEmptyQueuesAsync(again, TimeSpan.FromSeconds(20));
            Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        Assert.Equal([1, 3], FaultRig.Delivered(sink, Tag).Keys.Order());
        Assert.False(Directory.Exists(Path.Combine(disk.Path, "data", "spool", "corrupt")));
    }

    /// <summary>
    /// A disk too small for even one 16 MiB segment (4 MiB): the server does not need a segment to
    /// start (the first is made with the first message), so it starts, listens and answers every
    /// MAIL with 452 4.3.1; the console works; it stops cleanly.
    /// </summary>
    [TmpfsFact]
    public async Task ADiskTooSmallForOneSegmentStillStartsAndRefusesMailWith452()
    {
        using Tmpfs disk = Tmpfs.Mount(4);
        using ServerProcess server = await ServerProcess.StartAsync(disk.Path, parameters: FaultRig.Relaying(ServerProcess.FreePort()));
        await using SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(server.Port);
        for (int i = 0; i < 3; i++)
        {
            Assert.StartsWith("452 4.3.1", await client.CommandAsync("MAIL FROM:<s@client.test>"));
        }

        Assert.StartsWith("250", await client.CommandAsync("NOOP"));
        Assert.Contains("QUEUE-OUT:0", await server.CtlAsync("d d smtp"));
        Assert.Empty(Directory.GetFiles(server.SpoolDir, "seg-*"));
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
    }

    /// <summary>Payload of each smtp-source message.</summary>
    private const int LoadBytes = 8000;

    /// <summary>
    /// The load test: WDIR on a 96 MiB tmpfs, the queue held. smtp-source (8 sessions, 3000
    /// messages of 8 kB) and swaks (one message at a time) send; once 200 messages are queued a
    /// filler takes every free byte of the disk, so group commits are running when it fills up. Each
    /// client's replies are counted: 250 with a queue id, 452 4.3.1 at MAIL, 451 4.3.0 after the
    /// text. Then the filler goes, a second, smaller load is all taken, the queue is released, and
    /// smtp-sink must receive every acknowledged queue id exactly once and nothing else. The
    /// figures are printed (docs/testing.md quotes a run).
    /// </summary>
    [TmpfsFact]
    public async Task UnderLoadAFullDiskGets4xxAndEveryAcknowledgedMessageIsDeliveredOnceWhenSpaceReturns()
    {
        using Tmpfs disk = Tmpfs.Mount(96); // room for two segments and the reserve, and a third after the filler goes
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        using ServerProcess server = await ServerProcess.StartAsync(disk.Path, parameters: FaultRig.Relaying(sink.Port,
            "QUEUE-HOLD:YES", "MAX-IP-SES:64", "SES-TOT:40", "SES-RESERVED-IN:20", "SES-RESERVED-OUT:4"));

        // Phase 1: load, and the disk fills up in the middle of it.
        Task<LoadCount> source = SmtpSourceAsync(server.Port, sessions: 8, messages: 3000, bytes: LoadBytes);
        Task<LoadCount> swaks = SwaksAsync(server.Port, messages: 40);
        await Eventually.WaitAsync(async () => QueueOut(await server.CtlAsync("d d smtp")) >= 200 ? "taken" : null, "200 messages queued before the disk fills", TimeSpan.FromSeconds(60));
        string filler = disk.FillUp("filler");
        LoadCount full = (await source).Add(await swaks);
        Assert.True(full.Refused452 > 0, $"the disk never looked full to MAIL: {full}");
        Assert.True(full.Acked.Count > 0, $"nothing was taken before the disk filled: {full}\n{server.Stderr}");
        Assert.Equal(0, full.Other);
        Assert.False(server.HasExited, server.Stderr);
        Assert.Single(Regex.Matches(server.Stderr, "spool: disk almost full: ")); // once, not once per MAIL

        // Phase 2: space returns; everything is taken again.
        File.Delete(filler);
        await FreeSpaceSeenAsync();
        source = SmtpSourceAsync(server.Port, sessions: 4, messages: 300, bytes: LoadBytes);
        swaks = SwaksAsync(server.Port, messages: 10);
        LoadCount again = (await source).Add(await swaks);
        Assert.Equal(310, again.Acked.Count);
        Assert.Contains("spool: space is back: ", server.Stderr);

        // Released: every acknowledged message arrives once, and nothing that was refused.
        Assert.Contains("QUEUE-HOLD:NO set, in force now", await server.CtlAsync("s p smtp QUEUE-HOLD:NO"));
        var acked = new HashSet<string>(full.Acked.Concat(again.Acked));
        Assert.Equal(full.Acked.Count + again.Acked.Count, acked.Count);
        await Eventually.WaitAsync(() => DeliveredIds(sink).Count >= acked.Count, "every acknowledged message at smtp-sink", TimeSpan.FromSeconds(120));
        await FaultRig.WaitForEmptyQueuesAsync(server, TimeSpan.FromSeconds(30));
        Dictionary<string, int> delivered = DeliveredIds(sink);
        Assert.Empty(acked.Except(delivered.Keys));
        Assert.Empty(delivered.Keys.Except(acked));
        Assert.All(delivered, d => Assert.True(d.Value == 1, $"{d.Key} delivered {d.Value} times"));
        Console.WriteLine($"disk-full load: while filling: {full}; after: {again}; delivered {delivered.Count} of {acked.Count} acknowledged, each once");
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
    }

    /// <summary>What a load's clients were told.</summary>
    private sealed record LoadCount(IReadOnlyList<string> Acked, int Refused452, int Failed451, int Other)
    {
        public LoadCount Add(LoadCount more) => new([.. Acked, .. more.Acked], Refused452 + more.Refused452, Failed451 + more.Failed451, Other + more.Other);

        public override string ToString() => $"{Acked.Count} acknowledged (250), {Refused452} refused at MAIL (452 4.3.1), {Failed451} failed after the text (451 4.3.0), {Other} other";
    }

    /// <summary>smtp-source -v prints every reply it reads: the 250s with their queue ids, and the 4xx.</summary>
    private static async Task<LoadCount> SmtpSourceAsync(int port, int sessions, int messages, int bytes)
    {
        var (_, output) = await Tool.RunAsync("smtp-source", ["-v", "-A", "-N", "-s", N(sessions), "-m", N(messages), "-l", N(bytes),
            "-f", "s@client.test", "-t", "r@far.test", $"127.0.0.1:{N(port)}"], timeout: TimeSpan.FromMinutes(3));
        return Count(output, "<<< ");
    }

    /// <summary>swaks, one message at a time: its transcript holds the server's replies after "<- " (or "<** " for errors).</summary>
    private static async Task<LoadCount> SwaksAsync(int port, int messages)
    {
        LoadCount total = new([], 0, 0, 0);
        for (int i = 0; i < messages; i++)
        {
            var (_, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{N(port)}", "--from", "s@client.test", "--to", $"swaks{N(i)}@far.test",
                "--helo", "client.test", "--header", "Subject: swaks under a full disk", "--body", "text\n"]);
            total = total.Add(Count(output, "<-  ", "<** "));
        }

        return total;
    }

    private static LoadCount Count(string transcript, params string[] replyMarks)
    {
        var acked = new List<string>();
        int refused = 0;
        int failed = 0;
        int other = 0;
        foreach (string raw in transcript.Split('\n'))
        {
            string? reply = replyMarks.Select(m => raw.IndexOf(m, StringComparison.Ordinal) is int at and >= 0 ? raw[(at + m.Length)..].Trim() : null).FirstOrDefault(r => r is not null);
            if (reply is null)
            {
                continue;
            }

            if (QueuedAs().Match(reply) is { Success: true } m)
            {
                acked.Add(m.Groups[1].Value);
            }
            else if (reply.StartsWith("452 4.3.1", StringComparison.Ordinal))
            {
                refused++;
            }
            else if (reply.StartsWith("451 4.3.0", StringComparison.Ordinal))
            {
                failed++;
            }
            else if (reply.Length > 0 && reply[0] is '4' or '5')
            {
                other++;
            }
        }

        return new LoadCount(acked, refused, failed, other);
    }

    /// <summary>How many times smtp-sink received each of our queue ids (our Received: header names it).</summary>
    private static Dictionary<string, int> DeliveredIds(SmtpSinkProcess sink)
    {
        var counts = new Dictionary<string, int>();
        foreach (string text in sink.DumpTexts())
        {
            if (OurReceived().Match(text) is { Success: true } m)
            {
                counts[m.Groups[1].Value] = counts.GetValueOrDefault(m.Groups[1].Value) + 1;
            }
        }

        return counts;
    }

    private static int QueueOut(string display) => int.Parse(Regex.Match(display, @"QUEUE-OUT:(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^250 2\.0\.0 Ok: queued as ([0-9A-F]{8})")]
    private static partial Regex QueuedAs();

    [GeneratedRegex(@"\(AbilisFast\) with E?SMTP id ([0-9A-F]{8});")]
    private static partial Regex OurReceived();

    private static async Task<string?> SendAsync(SmtpTestClient client, int n)
    {
        await client.OpenDataAsync("s@client.test", $"r{n}@far.test");
        return await client.CommandAsync(FaultRig.Message(Tag, n) + ".");
    }
}
