namespace AbilisFast.Server.Tests.Delivery;

/// <summary>The submission path for mail generated on the appliance, and the pickup folder behind <c>abilisfast sendmail</c>.</summary>
public sealed class InternalMailTests : IDisposable
{
    private readonly TestServerContext _server = new("LOCAL-DOMAIN:local.test");

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task InternalMailIsStoredDurablyQueuedAndCountedInt()
    {
        uint id = await InternalMail.SubmitAsync(_server.Context, "alerts@local.test", ["ops@local.test", "far@remote.test"],
            "Subject: hi\nbare LF\rbare CR"u8.ToArray(), InternalKind.Internal);
        Assert.Equal(1, _server.Context.Queue.OutCount);
        StoredMessage stored = Assert.Single(_server.Stored());
        Assert.Equal(id, stored.Id);
        Assert.Equal("alerts@local.test", stored.Envelope.Sender);
        Assert.Equal(EnvelopeFlags.Internal, stored.Envelope.Flags);
        Assert.Equal([RecipientFlags.Local, RecipientFlags.Relay], stored.Envelope.Recipients.Select(r => r.Flags));
        Assert.StartsWith("Received: from localhost\r\n\tby mx.test (AbilisFast) with local id ", stored.Body);
        Assert.EndsWith("Subject: hi\r\nbare LF\r\nbare CR\r\n", stored.Body);
        Assert.Equal(1, _server.Context.Counters.Get(SmtpCounter.IntSucc, Direction.In));
    }

    [Theory]
    [InlineData("not an address", "ops@local.test")]
    [InlineData("a@local.test", "bad address")]
    [InlineData("a@local.test", "x@[999.1.1.1]")]
    public async Task BadAddressesAreRefusedWithAClearReason(string sender, string recipient)
    {
        var e = await Assert.ThrowsAsync<InternalMailException>(() =>
            InternalMail.SubmitAsync(_server.Context, sender, [recipient], "x"u8.ToArray(), InternalKind.Internal));
        Assert.Contains("is not a valid mail address", e.Message);
        Assert.Equal(0, _server.Context.Queue.OutCount);
    }

    [Fact]
    public async Task NotificationsComeFromTheNullSenderAndAreNotCountedInt()
    {
        await InternalMail.SubmitAsync(_server.Context, "", ["someone@remote.test"], "x"u8.ToArray(), InternalKind.Notification);
        StoredMessage stored = Assert.Single(_server.Stored());
        Assert.True(stored.Envelope.IsNullSender);
        Assert.Equal(EnvelopeFlags.Internal | EnvelopeFlags.Notification, stored.Envelope.Flags);
        Assert.Equal(0, _server.Context.Counters.Get(SmtpCounter.IntSucc, Direction.In));
    }

    [Fact]
    public async Task SendmailWritesAPickupFileThatTheServerQueues()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var input = new MemoryStream(Encoding.UTF8.GetBytes("Subject: from cron\n\nhello\n"));
        int code = SendmailCommand.Run(["-f", "cron@local.test", "--wdir", _server.WorkDir, "ops@local.test,<two@local.test>"], input, stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        Assert.Single(Directory.GetFiles(Path.Combine(_server.WorkDir, "pickup", "new")));

        Assert.Equal(1, await PickupDirectory.ScanAsync(_server.Context, CancellationToken.None));
        Assert.Empty(Directory.GetFiles(Path.Combine(_server.WorkDir, "pickup", "new")));
        StoredMessage stored = Assert.Single(_server.Stored());
        Assert.Equal("cron@local.test", stored.Envelope.Sender);
        Assert.Equal(["ops@local.test", "two@local.test"], stored.Envelope.Recipients.Select(r => r.Address));
        Assert.EndsWith("Subject: from cron\r\n\r\nhello\r\n", stored.Body);
    }

    [Fact]
    public async Task WithoutMinusFTheSenderIsPostmasterOfHeloHost()
    {
        using var input = new MemoryStream("x\n"u8.ToArray());
        Assert.Equal(0, SendmailCommand.Run(["--wdir", _server.WorkDir, "ops@local.test"], input, TextWriter.Null, TextWriter.Null));
        await PickupDirectory.ScanAsync(_server.Context, CancellationToken.None);
        Assert.Equal("postmaster@mx.test", Assert.Single(_server.Stored()).Envelope.Sender);
    }

    [Theory]
    [InlineData(new string[0], "no recipients")]
    [InlineData(new[] { "not-an-address" }, "is not a valid mail address")]
    [InlineData(new[] { "-x", "a@b.test" }, "unknown option")]
    [InlineData(new[] { "-f", "bad sender", "a@b.test" }, "is not a valid mail address")]
    public void SendmailRefusesBadArgumentsWithExitCode2(string[] args, string expected)
    {
        using var stderr = new StringWriter();
        using var input = new MemoryStream("x\n"u8.ToArray());
        Assert.Equal(2, SendmailCommand.Run([.. args, "--wdir", _server.WorkDir], input, TextWriter.Null, stderr));
        Assert.Contains(expected, stderr.ToString());
    }

    [Fact]
    public void SendmailSaysSoWhenWdirIsNotWritable()
    {
        string file = Path.Combine(_server.WorkDir, "a-file");
        File.WriteAllText(file, "");
        using var stderr = new StringWriter();
        using var input = new MemoryStream("x\n"u8.ToArray());
        Assert.Equal(4, SendmailCommand.Run(["--wdir", file, "a@b.test"], input, TextWriter.Null, stderr));
        Assert.Contains("cannot write to", stderr.ToString());
    }

    [Fact]
    public async Task AFileThatIsNotAPickupFileIsSetAside()
    {
        string dir = Path.Combine(_server.WorkDir, "pickup", "new");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "junk"), "hello\n");
        Assert.Equal(0, await PickupDirectory.ScanAsync(_server.Context, CancellationToken.None));
        Assert.True(File.Exists(Path.Combine(_server.WorkDir, "pickup", "bad", "junk")));
        Assert.Contains("Pickup junk refused: not a pickup file", _server.Log.SnapshotText());
    }
}
