namespace AbilisFast.Server.Tests.Submission;

/// <summary>The pieces of the submission rules without sockets: the header scan, the rate limiter, the parameters.</summary>
public sealed class SubmissionUnitTests
{
    [Theory]
    [InlineData("Subject: x\r\n\r\nbody", 12, false, false)]
    [InlineData("Date: now\r\nMessage-ID: <a@b>\r\n\r\n", 30, true, true)]
    [InlineData("dAtE:now\r\nmessage-id:<a@b>\r\n\r\n", 28, true, true)]
    [InlineData("Date : obsolete space\r\n\r\n", 23, true, false)]
    [InlineData("Dates: no\r\nMessage-IDs: no\r\nX-Date: no\r\n\r\n", 40, false, false)]
    [InlineData("Subject: a\r\n Date: folded, not a field\r\n\r\n", 40, false, false)]
    [InlineData("\r\nDate: in the body\r\n", 0, false, false)]
    public void TheScanFindsTheFieldsAndTheEndOfTheHeaderInAnySplit(string text, int end, bool date, bool messageId)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        for (int split = 0; split <= bytes.Length; split++)
        {
            var scan = default(SubmissionHeaderScan);
            int found = scan.Feed(bytes.AsSpan(0, split));
            if (found < 0)
            {
                int rest = scan.Feed(bytes.AsSpan(split));
                found = rest < 0 ? -1 : split + rest;
            }

            Assert.Equal(end, found);
            Assert.True(scan.Ended);
            Assert.Equal(date, scan.HasDate);
            Assert.Equal(messageId, scan.HasMessageId);
        }
    }

    [Fact]
    public void AHeaderWithoutEmptyLineIsNotEnded()
    {
        var scan = default(SubmissionHeaderScan);
        Assert.Equal(-1, scan.Feed("Subject: a\r\nDate: b"u8));
        Assert.False(scan.Ended);
        Assert.False(scan.AtLineStart);
        Assert.True(scan.HasDate);
        Assert.Equal(-1, scan.Feed("\r\n"u8));
        Assert.True(scan.AtLineStart);
    }

    [Fact]
    public void TheRateLimiterCountsPerUserPerMinuteLikeAnvil()
    {
        var limiter = new SubmissionRateLimiter();
        var start = new DateTimeOffset(2026, 12, 5, 22, 0, 0, TimeSpan.Zero);
        Assert.True(limiter.TryTake("bob", 2, start));
        Assert.True(limiter.TryTake("BOB", 2, start.AddSeconds(10)));
        Assert.False(limiter.TryTake("bob", 2, start.AddSeconds(59)));
        Assert.Equal(2, limiter.CountOf("bob", start.AddSeconds(59)));
        Assert.True(limiter.TryTake("carol", 2, start.AddSeconds(59)));

        // The unit started with bob's first message; a minute later it is a new one.
        Assert.True(limiter.TryTake("bob", 2, start.AddSeconds(60)));
        Assert.Equal(1, limiter.CountOf("bob", start.AddSeconds(61)));
    }

    [Fact]
    public void ZeroIsNoLimit()
    {
        var limiter = new SubmissionRateLimiter();
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(limiter.TryTake("bob", 0, DateTimeOffset.UnixEpoch));
        }
    }

    [Fact]
    public void TheDefaultsAreOffAndSafe()
    {
        SmtpSettings settings = ConfigurationLoader.Load(CommandLine.Parse([]), Path.GetTempPath());
        Assert.Equal(0, settings.SubmissionPort);
        Assert.False(settings.SubmissionTls);
        Assert.False(settings.SubmissionPlainLoopback);
        Assert.Equal(30, settings.SubmissionRate);
        Assert.Empty(settings.SubmissionAnySenders);
    }

    [Fact]
    public void TheParametersAreRead()
    {
        SmtpSettings settings = ConfigurationLoader.Load(CommandLine.Parse(
            ["SUBMISSION-PORT:587", "SUBMISSION-TLS:yes", "SUBMISSION-PLAINTEXT:loopback", "SUBMISSION-RATE:0", "SUBMISSION-ANY-SENDER: scanner , cron.job"]),
            Path.GetTempPath());
        Assert.Equal(587, settings.SubmissionPort);
        Assert.True(settings.SubmissionTls);
        Assert.True(settings.SubmissionPlainLoopback);
        Assert.Equal(0, settings.SubmissionRate);
        Assert.Equal(["scanner", "cron.job"], settings.SubmissionAnySenders);
        Assert.True(settings.MayUseAnySender("SCANNER"));
        Assert.False(settings.MayUseAnySender("scan"));
    }

    [Theory]
    [InlineData("\nSUBMISSION-PORT:70000\n", "{0}:2: SUBMISSION-PORT:70000 is invalid: allowed 0..65535")]
    [InlineData("SUBMISSION-TLS:maybe\n", "{0}:1: SUBMISSION-TLS:maybe is invalid: allowed YES or NO")]
    [InlineData("SUBMISSION-PLAINTEXT:YES\n", "{0}:1: SUBMISSION-PLAINTEXT:YES is invalid: allowed NO or LOOPBACK")]
    [InlineData("DT:30\nSUBMISSION-RATE:-1\n", "{0}:2: SUBMISSION-RATE:-1 is invalid: allowed 0..65535")]
    [InlineData("SUBMISSION-ANY-SENDER:bob,not/a/user\n", "{0}:1: SUBMISSION-ANY-SENDER:bob,not/a/user is invalid: allowed empty, or user names separated by commas")]
    public void BadValuesAreOneLineNamingFileAndLine(string content, string expected)
    {
        using var dir = new TempDir();
        string file = dir.Write("abilisfast.conf", content);
        ConfigurationException e = Assert.Throws<ConfigurationException>(
            () => ConfigurationLoader.Load(CommandLine.Parse(["--config", file]), dir.Path));
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, file), e.Message);
    }
}
