using System.Globalization;
using System.Text.RegularExpressions;
using AbilisFast.Server.Tests.Support;

namespace AbilisFast.Server.Tests.Faults;

/// <summary>
/// A relay server that answers garbage, hangs in the middle of a reply or drops the connection in
/// the middle of the text, at every attempt: the message is deferred (and shown so on the console),
/// the server keeps running, and when QUEUE-LIFE-TIME is spent the sender gets exactly one
/// notification, not one per attempt.
/// </summary>
[Collection("EndToEnd")]
public sealed partial class RemoteFaultTests
{
    [Theory]
    [InlineData(RemoteFault.Garbage)]
    [InlineData(RemoteFault.HangMidReply)]
    [InlineData(RemoteFault.DropMidData)]
    public async Task ABrokenRemoteDefersTheMessageAndItsLifetimeEndsInOneNotification(RemoteFault fault)
    {
        await using var remote = new FaultyRemote(fault);
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(["s"],
            FaultRig.Relaying(remote.Port, "QUEUE-LIFE-TIME:7", "OUT-TIMEOUT:1"));
        var (exit, swaks) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port}", "--from", "s@local.test", "--to", "r@far.test",
            "--helo", "client.test", "--header", "Subject: broken remote", "--body", "text line one\ntext line two\ntext line three\ntext line four\n"]);
        Assert.True(exit == 0, swaks);

        // Deferred, with the reason, while its life lasts.
        string queue = await Eventually.WaitAsync(async () =>
        {
            string q = await server.CtlAsync("d q smtp");
            return DeferredLine().IsMatch(q) ? q : null;
        }, "the message in QUEUE-DEFER on the console", TimeSpan.FromSeconds(10));
        Assert.Contains("<r@far.test>", queue);
        Assert.Contains("<s@local.test>", queue);

        string notification = Assert.Single(await Eventually.WaitAsync(() => Mailbox(server, "s") is { Length: > 0 } m ? m : null,
            "the lifetime notification", TimeSpan.FromSeconds(25)));
        await FaultRig.WaitForEmptyQueuesAsync(server, TimeSpan.FromSeconds(10));
        int attempts = remote.Connections;
        Assert.True(attempts >= 2, $"{attempts} attempt(s): the message should have been retried");
        if (fault == RemoteFault.DropMidData)
        {
            Assert.True(remote.TextLines >= 2, "the text had started when the connection dropped");
        }

        Assert.Contains("Subject: Undelivered Mail: message lifetime expired", notification);
        Assert.Contains("Final-Recipient: rfc822; r@far.test", notification);
        Assert.Contains("Status: 4.4.7", notification);
        Assert.Contains("Subject: broken remote", notification);

        await Task.Delay(2000); // a retry's own notification would show up by now
        Assert.Single(Mailbox(server, "s"));
        Assert.False(server.HasExited, server.Stderr);
        string counters = await server.CtlAsync("d s smtp");
        Assert.Equal(1, Counter(counters, "NOTIFY"));
        Assert.Equal(1, Counter(counters, "NOTIFY-LT"));
        Assert.Equal(1, Counter(counters, "EXT-FAIL"));
        Assert.Equal(0, Counter(counters, "EXT-SUCC"));
        server.DeleteWorkDir();
    }

    private static string[] Mailbox(ServerProcess server, string name)
    {
        string dir = Path.Combine(server.WorkDir, "data", "mailboxes", name, "new");
        return Directory.Exists(dir) ? [.. Directory.GetFiles(dir).Select(File.ReadAllText)] : [];
    }

    /// <summary>The OUT column of one counter row of <c>d s smtp</c>.</summary>
    private static long Counter(string output, string name)
    {
        Match m = Regex.Match(output, @"\b" + Regex.Escape(name) + @" *\|([ 0-9]{11})\|([ 0-9]{11})\|");
        Assert.True(m.Success, $"{name} in {output}");
        string cell = m.Groups[2].Value.Trim();
        return cell.Length == 0 ? 0 : long.Parse(cell, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"\n +[0-9A-F]{8} DEFER ")]
    private static partial Regex DeferredLine();
}
