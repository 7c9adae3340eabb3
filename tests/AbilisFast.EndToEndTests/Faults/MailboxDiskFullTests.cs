namespace AbilisFast.Server.Tests.Faults;

/// <summary>
/// WDIR/mailboxes on its own small tmpfs that really fills up, the spool on the ordinary disk: a
/// local delivery that hits ENOSPC in the middle of the file is deferred (452 4.3.1), never
/// bounced, its partial tmp/ file is removed and the session log says so; once there is room again
/// the message is delivered, once.
/// </summary>
[Collection("EndToEnd")]
public sealed partial class MailboxDiskFullTests
{
    [TmpfsFact]
    public async Task AFullMailboxDiskDefersTheDeliveryRemovesThePartialFileAndDeliversOnceThereIsRoom()
    {
        string workDir = ServerProcess.NewWorkDir();
        try
        {
            await RunAsync(workDir);
        }
        finally
        {
            Directory.Delete(workDir, recursive: true); // after the tmpfs is unmounted
        }
    }

    private static async Task RunAsync(string workDir)
    {
        string mailboxes = Path.Combine(workDir, "data", "mailboxes");
        ServerProcess.AddMailUsers(workDir, "big"); // local domains take only real mailboxes (LOCAL-RCPT:KNOWN)
        using Tmpfs disk = Tmpfs.Mount(2, mailboxes);
        using ServerProcess server = await ServerProcess.StartAsync(workDir, parameters:
            ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES", "MAIL-TRY-DELAY:1"]);

        // The disk is full up to 16 KiB: a 200 KB message gets ENOSPC in the middle of its file.
        string filler = disk.Fill("filler", disk.Available - (16 << 10));
        var text = new StringBuilder("Subject: too big for the disk\n\n");
        for (int i = 0; i < 2500; i++)
        {
            text.Append("line ").Append(i).Append(" of a message that does not fit on the mailbox disk\n");
        }

        var (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port}", "--from", "s@client.test", "--to", "big@local.test", "--helo", "client.test", "--data", "-"], stdin: text.ToString());
        Assert.True(exit == 0, output); // the spool has room: the message is accepted

        string log = await Eventually.WaitAsync(async () => await server.CtlAsync("debug res:smtp lsn:3") is { } l && l.Contains("Local delivery: big@local.test deferred", StringComparison.Ordinal) ? l : null,
            "the deferred local delivery in the session log", TimeSpan.FromSeconds(30));
        Assert.Matches(@"Local delivery: big@local\.test deferred: 452 4\.3\.1 no space left on the device of the mailboxes: .*; the partial file was removed", log);
        string queue = await server.CtlAsync("d q smtp");
        Assert.Matches(@"[0-9A-F]{8} DEFER ", queue);
        Assert.Contains("<big@local.test> 452 4.3.1 no space left on the device of the mailboxes", queue);
        string box = Path.Combine(mailboxes, "big");
        Assert.Empty(Directory.GetFiles(Path.Combine(box, "tmp")));
        Assert.Empty(Directory.GetFiles(Path.Combine(box, "new")));

        // Retries while the disk stays full defer again: never a bounce, nothing left in tmp/.
        await Eventually.WaitAsync(async () => DeferCount(await server.CtlAsync("debug res:smtp lsn:3")) >= 3, "two more deferred attempts", TimeSpan.FromSeconds(30));
        Assert.Empty(Directory.GetFiles(Path.Combine(box, "tmp")));
        Assert.Empty(Directory.GetFiles(Path.Combine(box, "new")));
        string counters = await server.CtlAsync("d s smtp");
        Assert.Equal(0, OutCounter(counters, "NOTIFY")); // no notification: nothing failed
        Assert.Equal(0, OutCounter(counters, "LOCAL-FAIL"));

        // Room again: the next try delivers it, exactly once, whole.
        File.Delete(filler);
        await server.CtlAsync("retry q smtp ALL"); // or wait for the next scheduled try
        string[] files = await Eventually.FilesAsync(Path.Combine(box, "new"), 1, TimeSpan.FromSeconds(30));
        await FaultRig.WaitForEmptyQueuesAsync(server, TimeSpan.FromSeconds(20));
        string stored = await File.ReadAllTextAsync(Assert.Single(files));
        Assert.EndsWith(text.ToString() + "\n", stored); // swaks ends the text with one more empty line
        Assert.Empty(Directory.GetFiles(Path.Combine(box, "tmp")));
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
    }

    private static int DeferCount(string log) => DeferredLine().Matches(log).Count;

    /// <summary>The OUT column of one counter of <c>d s smtp</c> (blank or a number).</summary>
    private static long OutCounter(string output, string name)
    {
        Match m = Regex.Match(output, @"\b" + Regex.Escape(name) + @" *\|[ 0-9]{11}\|([ 0-9]{11})\|");
        Assert.True(m.Success, $"{name} in {output}");
        string cell = m.Groups[1].Value.Trim();
        return cell.Length == 0 ? 0 : long.Parse(cell, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"Local delivery: big@local\.test deferred: 452 4\.3\.1 ")]
    private static partial Regex DeferredLine();
}
