using static AbilisFast.Server.Tests.Display.SeedText;

namespace AbilisFast.Server.Tests.Display;

/// <summary>Displays of a real context: snapshot taken from live channels, counters and clock.</summary>
public sealed class SmtpDisplayLiveTests
{
    [Fact]
    public void Busy_channel_shows_its_addresses_and_states()
    {
        var time = new FakeTimeProvider(SeedClock);
        SmtpContext context = NewContext(time);
        Assert.True(context.Channels.TryAcquireIn(out SmtpChannel channel));
        channel.TcpState = TcpState.Connected;
        channel.SmtpState = SmtpState.WaitMail;
        channel.LocalEndPoint = new IPEndPoint(IPAddress.Parse("127.0.0.1"), 2525);
        channel.RemoteEndPoint = new IPEndPoint(IPAddress.Parse("::ffff:192.168.10.200"), 51234);

        string text = SmtpDisplay.DisplayDetailed(SmtpDisplaySnapshot.Take(context));

        Assert.Equal(
            Block(
                ResHeader,
                "       STATE:ACTIVE          CUR-SES:1",
                "       ACTIVE-RES-IN:1       ACTIVE-RES-OUT:0      ACTIVE-MIX-IN:0       ACTIVE-MIX-OUT:0",
                "       QUEUE-OUT:0           QUEUE-DEFER:0",
                SessionsHeader,
                TableHeader,
                "       0  OUT  READY                                                 READY",
                "       1  IN   CONNECTED 127.0.0.1:2525        192.168.10.200:51234  WAITMAIL",
                "       2  IN   LISTEN                          READY",
                "       3  IN   LISTEN                          READY"),
            text);

        context.Channels.Release(channel);
        Assert.Contains(
            "\r\n       1  IN   LISTEN                          READY\r\n",
            SmtpDisplay.DisplayDetailed(SmtpDisplaySnapshot.Take(context)),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Counters_and_clear_time_come_from_the_context()
    {
        var time = new FakeTimeProvider(SeedClock);
        SmtpContext context = NewContext(time);
        Assert.True(context.Channels.TryAcquireIn(out SmtpChannel channel));
        context.Count(channel, SmtpCounter.CallSucc, Direction.In);
        context.Count(channel, SmtpCounter.ExtSucc, Direction.In);
        context.Count(null, SmtpCounter.DeniedIp, Direction.In);
        context.Counters.Clear(SeedClock); // the context's own clock chose the creation time; pin it
        context.Count(channel, SmtpCounter.CallSucc, Direction.In);
        context.Count(null, SmtpCounter.BannedIp, Direction.In);
        time.SetUtcNow(SeedClock + new TimeSpan(1, 2, 3, 4));

        SmtpDisplaySnapshot snapshot = SmtpDisplaySnapshot.Take(context);
        string statistics = SmtpDisplay.DisplayStatistics(snapshot);
        string perSession = SmtpDisplay.DisplayStatisticsPerSession(snapshot);

        Assert.StartsWith(
            Block(
                ResHeader,
                "       --- Cleared 1 days 02:03:04 ago, on 29/09/2017 at 15:12:06 -------------",
                "       CALL-SUCC  |          1|          0|CALL-FAIL  |          0|          0|"),
            statistics,
            StringComparison.Ordinal);
        Assert.EndsWith("       DENIED-IP  |          0|           |BANNED-IP  |          1|           |\r\n", statistics, StringComparison.Ordinal);
        Assert.StartsWith(statistics + SessionsHeader + "\r\n" + TableHeader + "\r\n", perSession, StringComparison.Ordinal);

        // The channel's own counters were not cleared with the resource's.
        Assert.Contains(
            "       1  IN   LISTEN                          READY\r\n" +
            "       CALL-SUCC  |          2|          0|CALL-FAIL  |          0|          0|\r\n" +
            "       EXT-SUCC   |          1|          0|EXT-FAIL   |          0|          0|\r\n",
            perSession,
            StringComparison.Ordinal);
        Assert.DoesNotContain("DENIED-IP", perSession[perSession.IndexOf(TableHeader, StringComparison.Ordinal)..], StringComparison.Ordinal);
    }

    private static SmtpContext NewContext(TimeProvider time)
        => new(
            TestSettings.Create("WDIR:" + Path.GetTempPath(), "HELOHOST:mx.test", "ACT:YES", "SES-TOT:4", "SES-RESERVED-IN:1", "SES-RESERVED-OUT:1"),
            new SessionLog(time),
            spool: null,
            time);
}
