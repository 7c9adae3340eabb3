namespace AbilisFast.Server.Tests.Faults;

/// <summary>
/// A spool damaged while the server was down (a flipped bit in a record in the middle, a torn tail,
/// a garbage segment file): the whole server restarts, quarantines what it cannot prove whole into
/// spool/corrupt/ and delivers every intact message.
/// </summary>
[Collection("EndToEnd")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CorruptSpoolRestartTests
{
    private const string Tag = "spool";

    [Fact]
    public async Task DamagedSpoolFilesAreQuarantinedAndEveryIntactMessageIsDelivered()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        string workDir = ServerProcess.NewWorkDir();
        (string password, string spoolDir) = await QueueHeldAsync(sink, workDir, 10);

        Assert.Equal(10, StoredMessages.Read(spoolDir).Count);
        string segment = Assert.Single(Directory.GetFiles(spoolDir, "seg-*.jnl"));
        byte[] bytes = await File.ReadAllBytesAsync(segment);

        // A bit flip inside message 5 (its one Data record fails its CRC) ...
        int flip = bytes.AsSpan().IndexOf("line 3 of message 5,"u8);
        Assert.True(flip > 0);
        bytes[flip + 2] ^= 0x04;

        // ... and the tail cut in the middle of message 10, as a crash while the disk wrote it would.
        int cut = bytes.AsSpan().IndexOf("line 10 of message 10,"u8);
        Assert.True(cut > flip);
        await File.WriteAllBytesAsync(segment, bytes.AsSpan(0, cut).ToArray());

        // A segment file of garbage after the real one.
        byte[] garbage = new byte[64 * 1024];
        new Random(5).NextBytes(garbage);
        await File.WriteAllBytesAsync(Path.Combine(spoolDir, "seg-00000090.jnl"), garbage);

        using (ServerProcess again = await ServerProcess.StartAsync(workDir, parameters: FaultRig.Relaying(sink.Port)))
        {
            again.KnownAdminPassword = password;
            Assert.Contains("8 message(s) recovered", again.Stderr);
            Assert.Contains("quarantined", again.Stderr); // the garbage file's header
            int[] intact = [1, 2, 3, 4, 6, 7, 8, 9];
            await Eventually.WaitAsync(() => intact.All(FaultRig.Delivered(sink, Tag).ContainsKey), "every intact message at smtp-sink", TimeSpan.FromSeconds(20));

            // Still a working server: a new message goes through.
            await using SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(again.Port);
            await client.OpenDataAsync("s@client.test", "r11@far.test");
            Assert.StartsWith("250 2.0.0", await client.CommandAsync(FaultRig.Message(Tag, 11) + "."));
            await Eventually.WaitAsync(() => FaultRig.Delivered(sink, Tag).ContainsKey(11), "the new message at smtp-sink", TimeSpan.FromSeconds(20));
            await FaultRig.WaitForEmptyQueuesAsync(again, TimeSpan.FromSeconds(20));
            Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        Dictionary<int, int> delivered = FaultRig.Delivered(sink, Tag);
        Assert.Equal([1, 2, 3, 4, 6, 7, 8, 9, 11], delivered.Keys.Order());
        Assert.All(delivered.Values, c => Assert.Equal(1, c));

        // Both damaged files were copied aside, byte for byte, for a human to look at.
        string[] quarantined = Directory.GetFiles(Path.Combine(spoolDir, "corrupt"));
        Assert.Contains(quarantined, f => Path.GetFileName(f).StartsWith("seg-00000090.jnl.", StringComparison.Ordinal) && File.ReadAllBytes(f).AsSpan().SequenceEqual(garbage));
        Assert.Contains(quarantined, f => Path.GetFileName(f).StartsWith(Path.GetFileName(segment) + ".", StringComparison.Ordinal)
            && File.ReadAllBytes(f).AsSpan().IndexOf(Encoding.ASCII.GetBytes("line 3 of message 5,")) < 0);
        Directory.Delete(workDir, recursive: true);
    }

    /// <summary>
    /// A damaged segment and a server that restarts again and again (a restart loop, an appliance
    /// on flash that keeps rebooting): the segment is copied to spool/corrupt/ at the first start
    /// and never again, no new record is ever appended to it (new mail goes to a fresh segment),
    /// and every intact message in it is still delivered, once.
    /// </summary>
    [Fact]
    public async Task ADamagedSegmentIsQuarantinedOnceAcrossRestartsAndNeverWrittenAgain()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        string workDir = ServerProcess.NewWorkDir();
        (string password, string spoolDir) = await QueueHeldAsync(sink, workDir, 6);

        string segment = Assert.Single(Directory.GetFiles(spoolDir, "seg-*.jnl"));
        byte[] bytes = await File.ReadAllBytesAsync(segment);
        int flip = bytes.AsSpan().IndexOf("line 3 of message 4,"u8);
        Assert.True(flip > 0);
        bytes[flip + 2] ^= 0x04;
        await File.WriteAllBytesAsync(segment, bytes);
        string corruptDir = Path.Combine(spoolDir, "corrupt");

        for (int restart = 1; restart <= 5; restart++)
        {
            using ServerProcess again = await ServerProcess.StartAsync(workDir, parameters: FaultRig.Relaying(sink.Port, "QUEUE-HOLD:YES"));
            again.KnownAdminPassword = password;
            Assert.Contains("message(s) recovered", again.Stderr);
            await using (SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(again.Port))
            {
                Assert.StartsWith("250 2.0.0", await SendAsync(client, 100 + restart));
            }

            Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(20)));

            // One copy, whatever the number of starts; the damaged file is what it was.
            string copy = Assert.Single(Directory.GetFiles(corruptDir));
            Assert.Equal(bytes, await File.ReadAllBytesAsync(copy));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(corruptDir));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(copy));
            byte[] now = await File.ReadAllBytesAsync(segment);
            Assert.True(bytes.AsSpan().SequenceEqual(now), $"start {restart}: the damaged segment was written to");
            Assert.True(restart == 1 || again.Stderr.Contains("already quarantined", StringComparison.Ordinal), again.Stderr);

            // The new message is in a segment of its own, not in the damaged one.
            string[] segments = Directory.GetFiles(spoolDir, "seg-*.jnl");
            Assert.Equal(2, segments.Length);
            string fresh = Assert.Single(segments, s => s != segment);
            byte[] freshBytes = await File.ReadAllBytesAsync(fresh);
            Assert.True(freshBytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes($"line 3 of message {100 + restart},")) > 0);
        }

        using (ServerProcess last = await ServerProcess.StartAsync(workDir, parameters: FaultRig.Relaying(sink.Port)))
        {
            last.KnownAdminPassword = password;
            int[] expected = [1, 2, 3, 5, 6, 101, 102, 103, 104, 105];
            await Eventually.WaitAsync(() => expected.All(FaultRig.Delivered(sink, Tag).ContainsKey), "every intact message at smtp-sink", TimeSpan.FromSeconds(20));
            await FaultRig.WaitForEmptyQueuesAsync(last, TimeSpan.FromSeconds(20));
            Assert.Equal(0, await last.TerminateAsync(TimeSpan.FromSeconds(20)));
        }

        Dictionary<int, int> delivered = FaultRig.Delivered(sink, Tag);
        Assert.Equal([1, 2, 3, 5, 6, 101, 102, 103, 104, 105], delivered.Keys.Order());
        Assert.All(delivered.Values, c => Assert.Equal(1, c));
        Assert.Single(Directory.GetFiles(corruptDir));
        Assert.False(File.Exists(segment), "the damaged segment is deleted once nothing in it is live");
        Directory.Delete(workDir, recursive: true);
    }

    /// <summary>
    /// Starts the server on <paramref name="workDir"/> with QUEUE-HOLD, has messages 1 to
    /// <paramref name="count"/> accepted (each one's 250 checked) and stops it cleanly: the spool
    /// holds them all, undelivered. Returns the admin password and the spool folder.
    /// </summary>
    private static async Task<(string Password, string SpoolDir)> QueueHeldAsync(SmtpSinkProcess sink, string workDir, int count)
    {
        using ServerProcess server = await ServerProcess.StartAsync(workDir, parameters: FaultRig.Relaying(sink.Port, "QUEUE-HOLD:YES"));
        await using (SmtpTestClient client = await SmtpTestClient.ConnectEhloAsync(server.Port))
        {
            for (int n = 1; n <= count; n++)
            {
                Assert.StartsWith("250 2.0.0", await SendAsync(client, n));
            }
        }

        string password = server.AdminPassword;
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        return (password, server.SpoolDir);
    }

    private static async Task<string?> SendAsync(SmtpTestClient client, int n)
    {
        await client.OpenDataAsync("s@client.test", $"r{n}@far.test");
        return await client.CommandAsync(FaultRig.Message(Tag, n) + ".");
    }
}
