namespace AbilisFast.Server.Tests.Load;

/// <summary>
/// The load tool (tools/AbilisFast.Load, built before this project) run as a program against
/// Postfix's smtp-sink, well behaved or refusing on demand: what it counts, what it prints as
/// JSON, and what it refuses to do.
/// </summary>
[Collection("EndToEnd")]
public sealed class LoadToolTests
{
    /// <summary>Path of the built tool's dll (run with the dotnet host).</summary>
    private static string ToolPath => ServerProcess.BuiltFile("build tools/AbilisFast.Load first", "tools", "AbilisFast.Load", "abilisfast-load.dll");

    private static async Task<(int ExitCode, string Output)> RunToolAsync(params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        return await Tool.RunAsync(dotnet, [ToolPath, .. args]);
    }

    private static string Server(SmtpSinkProcess sink) => "127.0.0.1:" + sink.Port.ToString(CultureInfo.InvariantCulture);

    private static long Field(JsonElement json, string name) => json.GetProperty(name).GetInt64();

    /// <summary>Runs the tool against a fresh smtp-sink started with <paramref name="sinkArgs"/>; returns its JSON summary.</summary>
    private static async Task<JsonElement> RunOnSinkAsync(string[] sinkArgs, params string[] args)
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync(sinkArgs);
        return await RunJsonAsync(["--server", Server(sink), .. args]);
    }

    /// <summary>Asserts counters of the JSON summary, all at once: a failure shows each one asked for.</summary>
    private static void AssertFields(JsonElement json, params (string Name, long Value)[] expected) =>
        Assert.Equal(expected, expected.Select(e => (e.Name, Field(json, e.Name))).ToArray());

    /// <summary>Runs the tool with --json --quiet; asserts exit 0 and returns the parsed object.</summary>
    private static async Task<JsonElement> RunJsonAsync(params string[] args)
    {
        var (exit, output) = await RunToolAsync([.. args, "--json", "--quiet"]);
        Assert.True(exit == 0, $"exit {exit}: {output}");
        using JsonDocument doc = JsonDocument.Parse(output);
        return doc.RootElement.Clone();
    }

    [Fact]
    public async Task Every_message_is_accepted_by_smtp_sink_and_the_json_has_every_field()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();

        JsonElement json = await RunJsonAsync("--server", Server(sink), "--sessions", "4", "--messages", "200", "--size", "2000");

        AssertFields(json, ("messages", 200), ("accepted", 200), ("replies_2xx", 200), ("replies_4xx", 0), ("replies_5xx", 0), ("errors", 0), ("connections", 4));
        Assert.True(json.GetProperty("elapsed_s").GetDouble() > 0);
        Assert.True(json.GetProperty("messages_per_s").GetDouble() > 0);
        double p50 = json.GetProperty("p50_ms").GetDouble();
        double p99 = json.GetProperty("p99_ms").GetDouble();
        double p999 = json.GetProperty("p999_ms").GetDouble();
        Assert.True(p50 > 0 && p50 <= p99 && p99 <= p999, $"p50 {p50} p99 {p99} p99.9 {p999}");

        string[] dumps = await DumpsAsync(sink, 200);
        string one = dumps.First(d => d.Contains("Subject: load 17\n", StringComparison.Ordinal));
        Assert.Contains("From: <s@load.test>\n", one, StringComparison.Ordinal);
        Assert.Contains("To: <r@load.test>\n", one, StringComparison.Ordinal);
        Assert.Matches(@"\nDate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\n", one);
        Assert.Contains("\nMessage-ID: <17.", one, StringComparison.Ordinal);
        string body = one[(one.IndexOf("\n\n", one.IndexOf("From: ", StringComparison.Ordinal), StringComparison.Ordinal) + 2)..].TrimEnd('\n');
        Assert.All(body.Split('\n'), line => Assert.InRange(line.Length, 1, 78));
    }

    [Fact]
    public async Task Without_pipelining_every_recipient_is_numbered_and_sent()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();

        JsonElement json = await RunJsonAsync("--server", Server(sink), "--sessions", "2", "--messages", "10", "--rcpts", "3", "--pipelining", "off", "--to", "user@far.test");

        Assert.Equal(10, Field(json, "accepted"));
        string[] dumps = await DumpsAsync(sink, 10);
        Assert.All(dumps, d =>
        {
            Assert.Contains("X-Rcpt-Args: <user1@far.test>", d, StringComparison.Ordinal);
            Assert.Contains("X-Rcpt-Args: <user2@far.test>", d, StringComparison.Ordinal);
            Assert.Contains("X-Rcpt-Args: <user3@far.test>", d, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_refused_DATA_is_counted_as_5xx_and_the_run_goes_on()
    {
        JsonElement json = await RunOnSinkAsync(["-f", "data"], "--sessions", "3", "--messages", "30");

        // 3 connections: RSET, not a new connection, after each refusal
        AssertFields(json, ("messages", 30), ("accepted", 0), ("replies_5xx", 30), ("replies_2xx", 0), ("errors", 0), ("connections", 3));
    }

    [Fact]
    public async Task A_refused_end_of_data_is_a_5xx_final_reply()
    {
        JsonElement json = await RunOnSinkAsync(["-f", "."], "--sessions", "2", "--messages", "12");

        AssertFields(json, ("accepted", 0), ("replies_5xx", 12));
    }

    [Fact]
    public async Task A_dropped_connection_is_counted_and_the_session_reconnects()
    {
        JsonElement json = await RunOnSinkAsync(["-q", "data"], "--sessions", "2", "--messages", "8");

        AssertFields(json, ("messages", 8), ("accepted", 0), ("errors", 8), ("errors_dropped", 8), ("connections", 8));
    }

    [Fact]
    public async Task Per_connection_1_opens_one_connection_per_message()
    {
        JsonElement json = await RunOnSinkAsync([], "--sessions", "3", "--messages", "25", "--per-connection", "1");

        AssertFields(json, ("accepted", 25), ("connections", 25));
    }

    [Fact]
    public async Task Per_connection_N_reconnects_after_N_messages()
    {
        JsonElement json = await RunOnSinkAsync([], "--sessions", "1", "--messages", "25", "--per-connection", "10");

        AssertFields(json, ("accepted", 25), ("connections", 3));
    }

    [Fact]
    public async Task A_duration_bound_run_ends_by_itself_with_every_started_message_finished()
    {
        JsonElement json = await RunOnSinkAsync([], "--sessions", "2", "--duration", "300ms");

        Assert.True(Field(json, "messages") > 0);
        Assert.Equal(Field(json, "messages"), Field(json, "accepted"));
    }

    [Fact]
    public async Task Open_loop_releases_the_messages_by_the_clock_and_reports_the_percentile_curves()
    {
        // 100 messages at 200/s: the last one is not released before 495 ms, however fast the server.
        JsonElement json = await RunOnSinkAsync([], "--sessions", "4", "--messages", "100", "--rate", "200");

        AssertFields(json, ("messages", 100), ("accepted", 100), ("unsent", 0));
        Assert.Equal(200, json.GetProperty("offered_per_s").GetDouble());
        Assert.True(json.GetProperty("elapsed_s").GetDouble() >= 0.495, $"elapsed {json.GetProperty("elapsed_s")}");
        foreach (string curve in new[] { "percentiles", "accept_percentiles" })
        {
            double[][] points = json.GetProperty(curve).EnumerateArray().Select(p => p.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
            Assert.Equal([0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100], points.Select(p => p[0]));
            Assert.All(points.Zip(points.Skip(1)), pair => Assert.True(pair.First[1] <= pair.Second[1], $"{curve} not rising: {pair.First[1]} > {pair.Second[1]}"));
        }

        double p50 = json.GetProperty("p50_ms").GetDouble();
        double p90 = json.GetProperty("p90_ms").GetDouble();
        double p99 = json.GetProperty("p99_ms").GetDouble();
        Assert.True(p50 > 0 && p50 <= p90 && p90 <= p99, $"p50 {p50} p90 {p90} p99 {p99}");
        // End of DATA to the reply is a part of the whole transaction.
        Assert.True(json.GetProperty("accept_p50_ms").GetDouble() <= p50);
    }

    [Fact]
    public async Task Open_loop_counts_what_a_slow_server_never_got_to_as_unsent_with_its_waiting_time()
    {
        // smtp-sink waits 1 s before answering each DATA: one session gets about one message done
        // in the run, while 40 are released over 200 ms.
        JsonElement json = await RunOnSinkAsync(["-w", "1"], "--sessions", "1", "--messages", "40", "--rate", "200", "--grace", "300ms");

        long started = Field(json, "messages");
        long unsent = Field(json, "unsent");
        Assert.Equal(40, started + unsent);
        Assert.InRange(started, 1, 3);
        Assert.Equal(started, Field(json, "accepted"));
        // Every message is in the figures, the unsent ones with the time they waited (more than
        // the grace), so the median is far above what one server reply takes here.
        Assert.True(json.GetProperty("p50_ms").GetDouble() >= 300, $"p50 {json.GetProperty("p50_ms")}");
    }

    [Theory]
    [InlineData("192.0.2.1:25")]
    [InlineData("mail.example.org:25")]
    [InlineData("[2001:db8::1]:25")]
    public async Task A_target_that_is_not_loopback_is_refused_with_exit_2(string server)
    {
        var (exit, output) = await RunToolAsync("--server", server, "--messages", "1");

        Assert.Equal(2, exit);
        Assert.Contains("--allow-remote", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--messages", "10")]
    [InlineData("--server", "127.0.0.1")]
    [InlineData("--server", "127.0.0.1:25", "--sessions", "0")]
    [InlineData("--server", "127.0.0.1:25", "--pipelining", "maybe")]
    [InlineData("--server", "127.0.0.1:25", "--messages", "5", "--duration", "5s")]
    [InlineData("--server", "127.0.0.1:25", "--bogus")]
    [InlineData("--server", "127.0.0.1:25", "--rate", "0")]
    [InlineData("--server", "127.0.0.1:25", "--rate", "fast")]
    public async Task Bad_arguments_give_exit_2_and_the_usage(params string[] args)
    {
        var (exit, output) = await RunToolAsync(args);

        Assert.Equal(2, exit);
        Assert.Contains("usage: abilisfast-load --server HOST:PORT", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_server_listening_gives_connect_errors_and_exit_1()
    {
        int port = ServerProcess.FreePort();

        var (exit, output) = await RunToolAsync("--server", $"127.0.0.1:{port}", "--sessions", "2", "--messages", "4", "--quiet");

        Assert.Equal(1, exit);
        Assert.Contains("errors             4 (connect 4,", output, StringComparison.Ordinal);
    }

    /// <summary>smtp-sink writes a dump after it replied; waits until all <paramref name="count"/> are there.</summary>
    [Fact]
    public async Task Accepted_ids_lists_the_message_id_of_every_message_answered_2xx_and_no_other()
    {
        string file = Path.Combine(Path.GetTempPath(), "abilisfast-ids-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            using (SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync())
            {
                JsonElement json = await RunJsonAsync("--server", Server(sink), "--sessions", "3", "--messages", "60", "--accepted-ids", file);
                Assert.Equal(60, Field(json, "accepted"));
                string[] ids = File.ReadAllLines(file);
                Assert.Equal(60, ids.Distinct(StringComparer.Ordinal).Count());
                Assert.All(ids, id => Assert.Matches(@"^\d+\.[0-9a-f]{12}@load\.test$", id));
                var sent = (await DumpsAsync(sink, 60))
                    .Select(d => System.Text.RegularExpressions.Regex.Match(d, "\nMessage-ID: <([^>]+)>\n").Groups[1].Value)
                    .ToHashSet(StringComparer.Ordinal);
                Assert.Equal(sent.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
            }

            // smtp-sink refuses every final dot (5xx): the messages are sent, none is listed.
            using (SmtpSinkProcess refusing = await SmtpSinkProcess.StartAsync("-f", "."))
            {
                JsonElement json = await RunJsonAsync("--server", Server(refusing), "--sessions", "2", "--messages", "10", "--accepted-ids", file);
                AssertFields(json, ("messages", 10), ("accepted", 0));
                Assert.Empty(File.ReadAllLines(file));
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<string[]> DumpsAsync(SmtpSinkProcess sink, int count)
    {
        string[] dumps = await Eventually.WaitAsync(() => sink.Dumps() is { } all && all.Length >= count ? all : null, $"{count} dumps", TimeSpan.FromSeconds(5));
        Assert.Equal(count, dumps.Length);
        return dumps;
    }
}
