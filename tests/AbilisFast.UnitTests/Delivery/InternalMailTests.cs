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
        Assert.Equal([RecipientFlags.Local | RecipientFlags.Mailbox, RecipientFlags.Relay], stored.Envelope.Recipients.Select(r => r.Flags));
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
        Assert.Contains("\r\nSubject: from cron\r\nFrom: cron@local.test\r\nDate: ", stored.Body);
        Assert.EndsWith("\r\n\r\nhello\r\n", stored.Body);
    }

    [Fact]
    public async Task WithoutMinusFTheSenderIsTheUserAtTheFirstLocalDomainAndBareNamesAreCompleted()
    {
        using var input = new MemoryStream("x\n"u8.ToArray());
        Assert.Equal(0, SendmailCommand.Run(["--wdir", _server.WorkDir, "ops"], input, TextWriter.Null, TextWriter.Null));
        await PickupDirectory.ScanAsync(_server.Context, CancellationToken.None);
        StoredMessage stored = Assert.Single(_server.Stored());
        Assert.Equal(Environment.UserName + "@local.test", stored.Envelope.Sender);
        Assert.Equal(["ops@local.test"], stored.Envelope.Recipients.Select(r => r.Address));
        Assert.Contains("\r\nFrom: " + Environment.UserName + "@local.test\r\nDate: ", stored.Body);
    }

    [Fact]
    public async Task APickupFileWithoutTheUserComesFromPostmasterOfHeloHost()
    {
        PickupDirectory.Write(_server.WorkDir, string.Empty, ["ops@local.test"], "Subject: old style\r\n\r\nx\r\n"u8);
        Assert.Equal(1, await PickupDirectory.ScanAsync(_server.Context, CancellationToken.None));
        Assert.Equal("postmaster@mx.test", Assert.Single(_server.Stored()).Envelope.Sender);
    }

    [Theory]
    [InlineData(new string[0], SysExits.Usage, "no recipients")]
    [InlineData(new[] { "bad address" }, SysExits.NoUser, "is not a valid mail address")]
    [InlineData(new[] { "-x", "a@b.test" }, SysExits.Usage, "unknown option -x")]
    [InlineData(new[] { "-f", "bad sender", "a@b.test" }, SysExits.Usage, "is not a valid mail address")]
    public void SendmailRefusesBadArgumentsWithSysexitsCodes(string[] args, int code, string expected)
    {
        using var stderr = new StringWriter();
        using var input = new MemoryStream("x\n"u8.ToArray());
        Assert.Equal(code, SendmailCommand.Run([.. args, "--wdir", _server.WorkDir], input, TextWriter.Null, stderr));
        Assert.Contains(expected, stderr.ToString());
    }

    [Fact]
    public void SendmailSaysSoWhenWdirIsNotUsable()
    {
        string file = Path.Combine(_server.WorkDir, "a-file");
        File.WriteAllText(file, "");
        using var stderr = new StringWriter();
        using var input = new MemoryStream("x\n"u8.ToArray());
        Assert.Equal(SysExits.TempFail, SendmailCommand.Run(["--wdir", file, "a@b.test"], input, TextWriter.Null, stderr));
        Assert.Contains("does not exist", stderr.ToString());

        File.WriteAllText(Path.Combine(_server.WorkDir, "pickup"), ""); // pickup a file: the folders cannot be made
        using var input2 = new MemoryStream("x\n"u8.ToArray());
        Assert.Equal(SysExits.TempFail, SendmailCommand.Run(["--wdir", _server.WorkDir, "a@b.test"], input2, TextWriter.Null, stderr));
        Assert.Contains("cannot write to", stderr.ToString());
    }

    [Fact]
    public async Task MinusTTakesTheHeaderRecipientsAndTheStoredMessageHasNoBcc()
    {
        using var input = new MemoryStream("To: Ops <ops>, dev@local.test\nCc: team: audit@local.test;\nBcc: boss@local.test\nSubject: s\n\nx\n"u8.ToArray());
        Assert.Equal(0, SendmailCommand.Run(["-t", "-oi", "-F", "Cron Daemon", "--wdir", _server.WorkDir, "extra@local.test", "dev@local.test"], input, TextWriter.Null, TextWriter.Null));
        await PickupDirectory.ScanAsync(_server.Context, CancellationToken.None);
        StoredMessage stored = Assert.Single(_server.Stored());
        Assert.Equal(["extra@local.test", "dev@local.test", "ops@local.test", "audit@local.test", "boss@local.test"], stored.Envelope.Recipients.Select(r => r.Address));
        Assert.DoesNotContain("Bcc", stored.Body);
        Assert.Contains("\r\nSubject: s\r\nFrom: Cron Daemon <" + Environment.UserName + "@local.test>\r\nDate: ", stored.Body);
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
