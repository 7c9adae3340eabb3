namespace AbilisFast.Server.Tests.EndToEnd;

/// <summary>
/// Channels and MAX-IP-SES places at the default settings (SES-TOT:10, SES-RESERVED-IN:2,
/// MAX-IP-SES:2) against Postfix's smtp-source, which closes each connection the moment it has read
/// the 221 and opens the next one at once: no run may see a 421. The limits still hold: a third
/// simultaneous session from one address gets 421 4.7.0 (swaks), counted CALL-FAIL.
/// </summary>
[Collection("EndToEnd")]
public sealed partial class ConnectionSlotEndToEndTests
{
    private static string[] Relaying(int sinkPort) =>
        ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "RELAY-NET:127/8", "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{sinkPort.ToString(CultureInfo.InvariantCulture)}"];

    private static async Task<(long In, long Out)> CounterAsync(ServerProcess server, string name)
    {
        string output = await server.CtlAsync("d s smtp");
        Match m = Regex.Match(output, Regex.Escape(name) + @" *\|([ 0-9]{11})\|([ 0-9]{11})\|");
        Assert.True(m.Success, output);
        return (Cell(m.Groups[1].Value), Cell(m.Groups[2].Value));

        static long Cell(string text) => text.Trim().Length == 0 ? 0 : long.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task SmtpSourceReconnectingAtOnceIsNeverRefusedAtTheDefaultLimits()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        using ServerProcess server = await ServerProcess.StartAsync(parameters: Relaying(sink.Port));
        string target = $"127.0.0.1:{server.Port.ToString(CultureInfo.InvariantCulture)}";

        // (sessions in parallel, messages, one connection per message or kept open (-d), runs)
        (int Sessions, int Messages, bool KeepOpen, int Runs)[] plan = [(2, 200, false, 10), (1, 200, false, 5), (2, 200, true, 3), (1, 200, true, 2)];
        long connections = 0;
        long messages = 0;
        foreach ((int sessions, int count, bool keepOpen, int runs) in plan)
        {
            for (int run = 0; run < runs; run++)
            {
                List<string> args = ["-s", sessions.ToString(CultureInfo.InvariantCulture), "-m", count.ToString(CultureInfo.InvariantCulture), "-f", "s@client.test", "-t", "r@far.test"];
                if (keepOpen)
                {
                    args.Add("-d");
                }

                args.Add(target);
                var (exit, output) = await Tool.RunAsync("smtp-source", args, timeout: TimeSpan.FromSeconds(120));
                Assert.True(exit == 0 && !output.Contains("421", StringComparison.Ordinal), $"smtp-source {string.Join(' ', args)}, run {run + 1}: exit {exit}: {output}");
                connections += keepOpen ? sessions : count;
                messages += count;
            }
        }

        Assert.Equal(0L, (await CounterAsync(server, "CALL-FAIL")).In);
        Assert.Equal(connections, (await CounterAsync(server, "CALL-SUCC")).In);
        Assert.Equal(messages, (await CounterAsync(server, "EXT-SUCC")).In);
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task AThirdSimultaneousSessionFromOneAddressGets421AndIsCountedCallFail()
    {
        // user is a mail user: local domains take only real mailboxes (LOCAL-RCPT:KNOWN).
        using ServerProcess server = await ServerProcess.StartWithMailUsersAsync(["user"], ["LOCAL-DOMAIN:local.test", "STORE-MB:YES"]);
        await using SmtpTestClient first = await SmtpTestClient.ConnectGreetedAsync(server.Port);
        await using SmtpTestClient second = await SmtpTestClient.ConnectGreetedAsync(server.Port);

        var (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port.ToString(CultureInfo.InvariantCulture)}", "--from", "s@client.test", "--to", "user@local.test", "--quit-after", "CONNECT"]);
        Assert.True(exit != 0, output);
        Assert.Contains("421 4.7.0 Error: too many connections from your address", output);
        Assert.Equal(1L, (await CounterAsync(server, "CALL-FAIL")).In);
        Assert.Equal(2L, (await CounterAsync(server, "CALL-SUCC")).In);

        // One of the two says QUIT: swaks is served at once.
        Assert.Equal("221 2.0.0 Bye", await first.CommandAsync("QUIT"));
        (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port.ToString(CultureInfo.InvariantCulture)}", "--from", "s@client.test", "--to", "user@local.test"]);
        Assert.True(exit == 0, output);
        Assert.Equal(1L, (await CounterAsync(server, "CALL-FAIL")).In);
        server.DeleteWorkDir();
    }
}
