namespace AbilisFast.Server.Tests.Delivery;

/// <summary>
/// HOP-LIMIT for mail that does not come over SMTP: internal submission refuses it (5.4.6), and a
/// pickup file from <c>abilisfast sendmail</c> over the limit is set aside while its sender gets a
/// failure notification, as Postfix bounces what its cleanup refuses.
/// </summary>
public sealed class PickupHopLimitTests : IDisposable
{
    private readonly TestServerContext _server = new("LOCAL-DOMAIN:local.test", "HOP-LIMIT:3");

    public void Dispose() => _server.Dispose();

    private static string Hops(int count) =>
        string.Concat(Enumerable.Range(1, count).Select(i => $"Received: from hop{i}.test\n\tby hop{i + 1}.test; Sat, 28 Nov 2026 19:16:37 +0000\n"));

    [Fact]
    public async Task InternalMailOverTheLimitIsRefusedAndNothingIsQueued()
    {
        // Two fields and ours make three: taken. Three and ours: refused.
        await InternalMail.SubmitAsync(_server.Context, "a@local.test", ["b@local.test"], Encoding.ASCII.GetBytes(Hops(2) + "\nbody\n"), InternalKind.Internal);
        var e = await Assert.ThrowsAsync<InternalMailException>(() =>
            InternalMail.SubmitAsync(_server.Context, "a@local.test", ["b@local.test"], Encoding.ASCII.GetBytes(Hops(3) + "\nbody\n"), InternalKind.Internal));
        Assert.True(e.TooManyHops);
        Assert.Equal("5.4.6 too many hops (3 Received: header fields, HOP-LIMIT 3): mail loop?", e.Message);
        Assert.Single(_server.Stored());
        Assert.Equal(1, _server.Context.Loops.HopLimit.Value);
        Assert.Equal(1, _server.Context.Counters.Get(SmtpCounter.IntFail, Direction.In));

        // Received: lines after the header section are body text.
        await InternalMail.SubmitAsync(_server.Context, "a@local.test", ["b@local.test"], Encoding.ASCII.GetBytes("Subject: x\n\n" + Hops(5)), InternalKind.Internal);
        Assert.Equal(2, _server.Stored().Count);
    }

    [Fact]
    public async Task APickupFileOverTheLimitIsSetAsideAndItsSenderNotified()
    {
        using var input = new MemoryStream(Encoding.ASCII.GetBytes(Hops(3) + "Subject: looping script\n\nbody\n"));
        Assert.Equal(0, SendmailCommand.Run(["-f", "s@local.test", "--wdir", _server.WorkDir, "r@local.test"], input, TextWriter.Null, TextWriter.Null));

        // Local delivery only: no name resolves.
        await using var engine = new DeliveryEngine(_server.Context, new ScriptedRoutes(), _server.Mailboxes) { PickupInterval = TimeSpan.FromMilliseconds(50) };
        engine.Start();
        string report = Assert.Single(await Eventually.WaitAsync(() => _server.Mailbox("s") is { Length: 1 } m ? m : null, "the notification in s's mailbox", TimeSpan.FromSeconds(20)));
        Assert.Empty(_server.Mailbox("r"));
        Assert.Single(Directory.GetFiles(Path.Combine(_server.WorkDir, "pickup", "bad")));
        Assert.Contains("Final-Recipient: rfc822; r@local.test\nAction: failed\nStatus: 5.4.6\n", report);
        Assert.Contains("Subject: looping script", report);
        Assert.Contains("refused: 5.4.6 too many hops", _server.Log.SnapshotText());
        Assert.Equal(1, _server.Context.Counters.Get(SmtpCounter.Notify, Direction.Out));
        await Eventually.WaitAsync(() => _server.Context.Counters.Get(SmtpCounter.NotifySucc, Direction.Out) == 1, "the notification to leave the queue", TimeSpan.FromSeconds(20));
    }
}
