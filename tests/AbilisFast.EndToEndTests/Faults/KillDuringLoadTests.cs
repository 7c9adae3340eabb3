using System.Collections.Concurrent;
using System.Net.Sockets;
using AbilisFast.Server.Tests.Support;
using Xunit.Abstractions;

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

    /// <summary>What a client knows about one message.</summary>
    private enum Fate
    {
        /// <summary>Refused, or the connection died before the final dot went out: must never be delivered.</summary>
        NotTaken,

        /// <summary>
        /// The final dot was (or may have been) sent and no reply came back: the server may have
        /// fsynced it and died before its 250 left. Such a message MAY be delivered (a 250 lost in
        /// flight); it need not be.
        /// </summary>
        InFlight,

        /// <summary>The client read 250 after the final dot: must be delivered at least once.</summary>
        Accepted,
    }

    [Fact]
    public async Task EveryMessageThatGotA250IsDeliveredAfterKillsAndRestarts()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        string workDir = ServerProcess.NewWorkDir();
        string[] parameters = FaultRig.Relaying(sink.Port, "MAX-IP-SES:10");
        ServerProcess server = await ServerProcess.StartAsync(workDir, parameters: parameters);
        string password = server.AdminPassword;
        var fates = new ConcurrentDictionary<int, Fate>();
        int next = 0;
        int port = server.Port;
        using var stop = new CancellationTokenSource();

        async Task ClientAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                SmtpTestClient client;
                try
                {
                    client = await SmtpTestClient.ConnectAsync(Volatile.Read(ref port));
                }
                catch (SocketException)
                {
                    await Task.Delay(20); // the server is down: try again until it is back
                    continue;
                }

                await using (client)
                {
                    await SessionAsync(client);
                }
            }
        }

        async Task SessionAsync(SmtpTestClient client)
        {
            try
            {
                if ((await client.ReadReplyAsync())?.StartsWith("220 ", StringComparison.Ordinal) != true
                    || (await client.CommandAsync("EHLO client.test"))?.StartsWith("250", StringComparison.Ordinal) != true)
                {
                    return;
                }

                while (!stop.IsCancellationRequested)
                {
                    int n = Interlocked.Increment(ref next);
                    fates[n] = Fate.NotTaken;
                    if ((await client.CommandAsync("MAIL FROM:<s@client.test>"))?.StartsWith("250", StringComparison.Ordinal) != true
                        || (await client.CommandAsync($"RCPT TO:<r{n}@far.test>"))?.StartsWith("250", StringComparison.Ordinal) != true
                        || (await client.CommandAsync("DATA"))?.StartsWith("354", StringComparison.Ordinal) != true)
                    {
                        return;
                    }

                    fates[n] = Fate.InFlight; // from here on the server may hold it
                    await client.SendAsync(FaultRig.Message(Tag, n) + ".\r\n");
                    string? reply = await client.ReadReplyAsync(TimeSpan.FromSeconds(10));
                    if (reply is null)
                    {
                        return; // died after the dot: stays InFlight
                    }

                    fates[n] = reply.StartsWith("250 ", StringComparison.Ordinal) ? Fate.Accepted : Fate.NotTaken;
                }
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                // The kill: whatever was marked stays as marked.
            }
        }

        Task[] clients = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(ClientAsync))];
        var random = new Random();
        const int rounds = 4;
        try
        {
            for (int round = 0; round < rounds; round++)
            {
                await Task.Delay(random.Next(300, 1200));
                server.Kill();
                server.Dispose();
                server = await ServerProcess.StartAsync(workDir, parameters: parameters);
                server.KnownAdminPassword = password;
                Volatile.Write(ref port, server.Port);
            }

            await Task.Delay(random.Next(300, 800));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(clients);
        }

        try
        {
            int[] accepted = [.. fates.Where(f => f.Value == Fate.Accepted).Select(f => f.Key)];
            Assert.True(accepted.Length >= 20, $"only {accepted.Length} message(s) accepted: the test did not load the server");
            await Eventually.WaitAsync(() => accepted.All(FaultRig.Delivered(sink, Tag).ContainsKey), "every accepted message at smtp-sink", TimeSpan.FromSeconds(30));
            await FaultRig.WaitForEmptyQueuesAsync(server, TimeSpan.FromSeconds(20));
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
            Assert.Empty(StoredMessages.Read(server.SpoolDir)); // every message ended with a Done record

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
        finally
        {
            server.Dispose();
            Directory.Delete(workDir, recursive: true);
        }
    }
}
