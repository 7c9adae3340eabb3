namespace AbilisFast.Server.Tests.Faults;

/// <summary>
/// WDIR on a small tmpfs that really fills up. The spool preallocates 16 MiB segments and wants a
/// 16 MiB reserve besides, so MAIL is refused with <c>452 4.3.1</c> while less than 32 MiB (plus the
/// declared size) is free; a message whose text needs a new segment when there is no room for one
/// gets <c>451 4.3.0</c> and is dropped. Nothing accepted before is damaged, and the next message
/// after space returns is taken.
/// </summary>
[Collection("EndToEnd")]
public sealed class DiskFullTests
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
            await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.Port);
            Assert.StartsWith("220 ", await client.ReadReplyAsync());
            Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250 2.0.0", await SendAsync(client, 1)); // the first segment is allocated now

            // The disk fills up: MAIL is refused before any text is sent.
            string filler = disk.Fill("filler", disk.Available - LeftFree);
            await FreeSpaceSeenAsync();
            Assert.StartsWith("452 4.3.1", await client.CommandAsync("MAIL FROM:<s@client.test>"));

            // Space returns: MAIL passes; the disk fills up again while the text comes, and the
            // text outgrows the first segment: no room for a second one, so the write fails.
            File.Delete(filler);
            await FreeSpaceSeenAsync();
            await client.OpenDataAsync("s@client.test", "r2@far.test");
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
        await using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.Port);
        Assert.StartsWith("220 ", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"));
        for (int i = 0; i < 3; i++)
        {
            Assert.StartsWith("452 4.3.1", await client.CommandAsync("MAIL FROM:<s@client.test>"));
        }

        Assert.StartsWith("250", await client.CommandAsync("NOOP"));
        Assert.Contains("QUEUE-OUT:0", await server.CtlAsync("d d smtp"));
        Assert.Empty(Directory.GetFiles(server.SpoolDir, "seg-*"));
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
    }

    private static async Task<string?> SendAsync(SmtpTestClient client, int n)
    {
        await client.OpenDataAsync("s@client.test", $"r{n}@far.test");
        return await client.CommandAsync(FaultRig.Message(Tag, n) + ".");
    }
}
