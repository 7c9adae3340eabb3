namespace AbilisFast.Server.Tests.IpBan;

/// <summary>The IPBAN alert mail: one internal mail per alert, to ALERT-TO, stored in the spool.</summary>
public sealed class IpBanAlertMailTests : IDisposable
{
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.7");

    private readonly TestServerContext _server = new("LOCAL-DOMAIN:local.test");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly ConcurrentQueue<string> _log = new();

    public void Dispose() => _server.Dispose();

    private IpBanService New(IpBanAction action, params string[] alertTo)
    {
        var bans = new IpBanService(_server.WorkDir, _time, new IpBanOptions
        {
            MaxFail = 3,
            Action = action,
            WhiteList = IpAccessList.Empty,
            WhiteListText = "#",
            AlertTo = alertTo.Length == 0 ? IpBanOptions.DefaultAlertTo : alertTo,
        });
        IpBanAlertMail.Attach(bans, _server.Context, _log.Enqueue);
        return bans;
    }

    /// <summary>Records <paramref name="times"/> failed console logins from <paramref name="address"/>.</summary>
    private static void FailConsoleLogins(IpBanService bans, IPAddress address, int times)
    {
        for (int i = 0; i < times; i++)
        {
            bans.RecordFailure(address, "console login");
        }
    }

    private Task<string> LoggedAsync(string text) =>
        Eventually.WaitAsync(() => _log.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)), $"log line '{text}'");

    [Fact]
    public async Task An_alert_with_ban_queues_exactly_one_internal_mail_to_alert_to()
    {
        IpBanService bans = New(IpBanAction.Both, "postmaster", "ops@local.test");
        int alerts = 0;
        bans.Alert += _ => Interlocked.Increment(ref alerts);
        bans.RecordFailure(Attacker, "console login");
        _time.Advance(TimeSpan.FromMinutes(2));
        bans.RecordFailure(Attacker, "smtp auth");
        _time.Advance(TimeSpan.FromMinutes(3));
        bans.RecordFailure(Attacker, "console login");
        Assert.True(bans.IsBanned(Attacker));
        bans.RecordFailure(Attacker, "console login"); // banned: not counted, no second alert

        string queued = await LoggedAsync("queued as");
        Assert.Equal(1, alerts);
        Assert.Contains("ipban: alert mail about 203.0.113.7 queued as", queued);
        Assert.Equal(1, _server.Context.Queue.OutCount);
        StoredMessage stored = Assert.Single(_server.Stored());
        Assert.Equal("postmaster@mx.test", stored.Envelope.Sender);
        Assert.Equal(EnvelopeFlags.Internal, stored.Envelope.Flags);
        Assert.Equal(["postmaster", "ops@local.test"], stored.Envelope.Recipients.Select(r => r.Address));
        // Resolved when queued: each has a mailbox here (no recipient table in this test: own folders).
        Assert.All(stored.Envelope.Recipients, r => Assert.Equal(RecipientFlags.Local | RecipientFlags.Mailbox, r.Flags));
        Assert.Equal(1, _server.Context.Counters.Get(SmtpCounter.IntSucc, Direction.In));

        string body = stored.Body;
        Assert.Contains("\r\nFrom: AbilisFast IPBAN <postmaster@mx.test>\r\n", body);
        Assert.Contains("\r\nTo: <postmaster@mx.test>, <ops@local.test>\r\n", body);
        Assert.Contains("\r\nSubject: IPBAN: 203.0.113.7 banned for 10080 minutes after 3 failed logins\r\n", body);
        Assert.Matches(@"\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n", body);
        Assert.Matches(@"\r\nMessage-ID: <ipban\.\d+\.[0-9a-f]{32}@mx\.test>\r\n", body);
        AssertText.ContainsAll(
            body,
            "\r\nAuto-Submitted: auto-generated\r\n",
            "\r\n\r\nIPBAN on mx.test: 203.0.113.7 failed 3 times within FIND-TIME.\r\n",
            "\r\nWhat failed:  console login, smtp auth\r\n",
            "\r\nFailures:     3 (MAX-FAIL), the first at 2025-03-01 12:00:00 UTC, the last at 2025-03-01 12:05:00 UTC\r\n",
            "\r\nWindow:       FIND-TIME 1440 minutes\r\n",
            "\r\nBanned until: 2025-03-08 12:05:00 UTC (BAN-TIME 10080 minutes)\r\n",
            "\r\nTo lift the ban, on the console: clear ipban 203.0.113.7\r\n");
        // The header ends at the first empty line, right before the text.
        Assert.Equal(body.IndexOf("\r\n\r\n", StringComparison.Ordinal), body.IndexOf("\r\n\r\nIPBAN on", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Action_mail_only_says_max_fail_was_reached_and_nothing_is_banned()
    {
        IpBanService bans = New(IpBanAction.Mail);
        FailConsoleLogins(bans, Attacker, 3);

        Assert.False(bans.IsBanned(Attacker));
        await LoggedAsync("queued as");
        StoredMessage stored = Assert.Single(_server.Stored());
        Assert.Equal(["postmaster"], stored.Envelope.Recipients.Select(r => r.Address));
        Assert.Contains("\r\nSubject: IPBAN: 203.0.113.7 reached MAX-FAIL (3 failed logins), not banned\r\n", stored.Body);
        Assert.Contains("\r\nBanned until: not banned (ACTION:MAIL)\r\n", stored.Body);
        Assert.DoesNotContain("clear ipban", stored.Body);
    }

    [Fact]
    public async Task Action_ban_sends_no_mail()
    {
        IpBanService bans = New(IpBanAction.Ban);
        FailConsoleLogins(bans, Attacker, 3);

        Assert.True(bans.IsBanned(Attacker));
        // A mail alert on another service proves the spool works; the BAN-only one queued nothing before it.
        IpBanService other = New(IpBanAction.Mail);
        FailConsoleLogins(other, IPAddress.Parse("198.51.100.9"), 3);

        await LoggedAsync("queued as");
        StoredMessage stored = Assert.Single(_server.Stored());
        Assert.Contains("198.51.100.9", stored.Body);
    }

    [Fact]
    public async Task A_submission_that_fails_is_logged_and_never_reaches_the_login_path()
    {
        IpBanService bans = New(IpBanAction.Both);
        _server.Spool.Dispose();
        FailConsoleLogins(bans, Attacker, 3); // must not throw

        Assert.True(bans.IsBanned(Attacker));
        string line = await LoggedAsync("not sent");
        Assert.StartsWith("ipban: alert mail about 203.0.113.7 not sent: ", line);
        Assert.Equal(0, _server.Context.Queue.OutCount);
    }

    [Fact]
    public void A_helohost_that_makes_no_address_gives_the_null_sender()
    {
        Assert.Equal("postmaster@mx.local.test", IpBanAlertMail.SenderFor("mx.local.test"));
        Assert.Equal(string.Empty, IpBanAlertMail.SenderFor("not a host"));
    }

    [Theory]
    [InlineData("ops@local.test", "ALERT-TO:ops@local.test")]
    [InlineData(" ops@local.test , <sec@remote.test>,postmaster ", "ALERT-TO:ops@local.test,sec@remote.test,postmaster")]
    [InlineData("a@x.test,A@x.test", "ALERT-TO:a@x.test")]
    public void Alert_to_takes_comma_separated_addresses(string value, string line)
    {
        Assert.True(IpBanParameters.TrySet(IpBanOptions.Default, "alert-to", value, out IpBanOptions updated, out string error), error);
        Assert.Equal(line, IpBanParameters.FormatOne(updated, "ALERT-TO"));
    }

    [Theory]
    [InlineData("bad address", "ALERT-TO:bad address is invalid: 'bad address' is not a valid mail address; allowed one or more mail addresses separated by commas")]
    [InlineData("ops@local.test,x@[999.1.1.1]", "ALERT-TO:ops@local.test,x@[999.1.1.1] is invalid: 'x@[999.1.1.1]' is not a valid mail address; allowed one or more mail addresses separated by commas")]
    [InlineData("", "ALERT-TO: is invalid: allowed one or more mail addresses separated by commas")]
    [InlineData("a@x.test,,b@x.test", "ALERT-TO:a@x.test,,b@x.test is invalid: allowed one or more mail addresses separated by commas")]
    [InlineData("<>", "ALERT-TO:<> is invalid: allowed one or more mail addresses separated by commas")]
    public void Alert_to_refuses_what_rcpt_to_would_refuse(string value, string expected)
    {
        IpBanOptions before = IpBanOptions.Default with { MaxFail = 4 };
        Assert.False(IpBanParameters.TrySet(before, "ALERT-TO", value, out IpBanOptions updated, out string error));
        Assert.Equal(expected, error);
        Assert.Same(before, updated);
    }

    [Fact]
    public void Alert_to_holds_at_most_32_addresses()
    {
        string many = string.Join(',', Enumerable.Range(0, 33).Select(i => $"a{i}@x.test"));
        Assert.False(IpBanParameters.TrySet(IpBanOptions.Default, "ALERT-TO", many, out _, out string error));
        Assert.EndsWith("is invalid: allowed one or more mail addresses separated by commas, at most 32", error);
        Assert.True(IpBanParameters.TrySet(IpBanOptions.Default, "ALERT-TO", string.Join(',', Enumerable.Range(0, 32).Select(i => $"a{i}@x.test")), out IpBanOptions ok, out _));
        Assert.Equal(32, ok.AlertTo.Count);
    }
}
