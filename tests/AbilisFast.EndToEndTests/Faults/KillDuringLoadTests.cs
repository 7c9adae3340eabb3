namespace AbilisFast.Server.Tests.Faults;

/// <summary>
/// kill -9 at random moments while clients send and the server relays to smtp-sink, then restart on
/// the same WDIR, a few rounds: every message that got a 250 is delivered at least once, and no
/// message is delivered that the server did not take.
/// </summary>
[Collection("EndToEnd")]
public sealed class KillDuringLoadTests(ITestOutputHelper output)
{
    private const string Tag = "kill";

    [Fact]
    public async Task EveryMessageThatGotA250IsDeliveredAfterKillsAndRestarts()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        using KillLoad load = await KillLoad.StartAsync(ServerProcess.NewWorkDir(), FaultRig.Relaying(sink.Port, "MAX-IP-SES:10"), Tag, n => $"r{n}@far.test");
        const int rounds = 4;
        await load.KillAndRestartAsync(rounds, 300, 1200, 800);
        ConcurrentDictionary<int, Fate> fates = load.Fates;
        int[] accepted = load.AcceptedAtLeast(20);
        await Eventually.WaitAsync(() => accepted.All(FaultRig.Delivered(sink, Tag).ContainsKey), "every accepted message at smtp-sink", TimeSpan.FromSeconds(30));
        await load.AssertDrainsAndStopsCleanlyAsync(TimeSpan.FromSeconds(20));

        Dictionary<int, int> delivered = FaultRig.Delivered(sink, Tag);
        int[] lost = [.. accepted.Where(n => !delivered.ContainsKey(n))];
        int[] notTaken = [.. delivered.Keys.Where(n => fates.GetValueOrDefault(n) == Fate.NotTaken)];
        int inFlight = fates.Count(f => f.Value == Fate.InFlight);
        int inFlightDelivered = delivered.Keys.Count(n => fates.GetValueOrDefault(n) == Fate.InFlight);
        int duplicates = delivered.Values.Sum(c => c - 1);
        output.WriteLine($"{rounds} kills: {fates.Count} started, {accepted.Length} got a 250, {inFlight} in flight at a kill "
            + $"({inFlightDelivered} of them delivered), {delivered.Count} delivered, {duplicates} duplicate(s), {lost.Length} lost");
        Assert.Empty(lost);
        Assert.Empty(notTaken);
        Assert.All(delivered.Keys, n => Assert.True(fates.ContainsKey(n), $"message {n} was never sent"));
    }
}
