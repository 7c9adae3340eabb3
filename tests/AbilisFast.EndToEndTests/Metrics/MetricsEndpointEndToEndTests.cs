using AbilisFast.Server.Metrics;

namespace AbilisFast.Server.Tests.Metrics;

/// <summary>
/// The metrics port of the real executable, read with curl and checked with Prometheus's own
/// parser and linter (<c>promtool check metrics</c>, Debian package prometheus; only promtool is run).
/// </summary>
[Collection("EndToEnd")]
public sealed partial class MetricsEndpointEndToEndTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static async Task<(int Status, string Headers, string Body)> CurlAsync(string url, params string[] options)
    {
        var (exit, output) = await Tool.RunAsync("curl", ["-s", "-S", "-i", "--max-time", "15", .. options, url]);
        Assert.True(exit == 0, $"curl {url}: exit {exit}: {output}");
        int split = output.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(split > 0, output);
        string headers = output[..split];
        Match status = Regex.Match(headers, @"^HTTP/1\.1 (\d{3}) ");
        Assert.True(status.Success, headers);
        return (int.Parse(status.Groups[1].Value, CultureInfo.InvariantCulture), headers, output[(split + 4)..]);
    }

    private static async Task PromtoolAcceptsAsync(string body)
    {
        var (exit, output) = await Tool.RunAsync("promtool", ["check", "metrics"], stdin: body);
        Assert.True(exit == 0, $"promtool check metrics: exit {exit}: {output}\n{body}");
        Assert.Equal(string.Empty, output.Trim());
    }

    private static long Value(string body, string sample)
    {
        Match m = Regex.Match(body, "^" + Regex.Escape(sample) + @" (\S+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"no sample {sample} in:\n{body}");
        return (long)double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task GetMetricsAfterARelayedMessageIsValidPrometheusTextAndCountsWhatHappened()
    {
        using SmtpSinkProcess sink = await SmtpSinkProcess.StartAsync();
        int port = ServerProcess.FreePort();
        using ServerProcess server = await ServerProcess.StartAsync(parameters:
        [
            "LOCAL-DOMAIN:local.test", "RELAY-NET:127/8", "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{sink.Port}", $"METRICS-PORT:{port}",
        ]);
        Assert.Contains($"abilisfast: metrics on http://127.0.0.1:{port}/metrics", server.Stderr, StringComparison.Ordinal);
        string url = $"http://127.0.0.1:{port}/metrics";

        (int status, string headers, string body) = await CurlAsync(url);
        Assert.Equal(200, status);
        Assert.Contains("Content-Type: " + MetricsServer.ContentType, headers, StringComparison.Ordinal);
        await PromtoolAcceptsAsync(body);
        Assert.Equal(0, Value(body, "abilisfast_smtp_accept_duration_seconds_count"));

        var (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{server.Port}", "--from", "s@local.test", "--to", "r@far.test", "--helo", "client.test"]);
        Assert.True(exit == 0, output);
        body = await Eventually.WaitAsync(async () =>
        {
            (_, _, string text) = await CurlAsync(url);
            return Value(text, "abilisfast_smtp_events_total{counter=\"EXT-SUCC\",direction=\"out\"}") == 1 ? text : null;
        }, "the delivery in the metrics", Wait);

        await PromtoolAcceptsAsync(body);
        Assert.Equal(1, Value(body, "abilisfast_smtp_events_total{counter=\"EXT-SUCC\",direction=\"in\"}"));
        Assert.Equal(1, Value(body, "abilisfast_smtp_events_total{counter=\"RELAY-SUCC\",direction=\"out\"}"));
        Assert.Equal(1, Value(body, "abilisfast_smtp_accept_duration_seconds_count"));
        Assert.Equal(1, Value(body, "abilisfast_smtp_accept_duration_seconds_bucket{le=\"+Inf\"}"));
        Assert.Equal(1, Value(body, "abilisfast_delivery_delay_seconds_count"));
        Assert.True(Value(body, "abilisfast_spool_commit_batch_size_count") >= 1, body);
        Assert.Equal(0, Value(body, "abilisfast_smtp_queue{queue=\"out\"}"));
        Assert.Equal(0, Value(body, "abilisfast_ipban_banned"));
        Assert.Matches(@"abilisfast_smtp_channel_events_total\{channel=""\d+"",counter=""CALL-SUCC"",direction=""in""\} 1", body);
        Assert.Equal(10, Regex.Matches(body, @"^abilisfast_smtp_channel_states\{[^}]*\} (\d+)$", RegexOptions.Multiline).Sum(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));

        // The console's d m smtp is the same exposition in OpenMetrics form.
        string console = await server.CtlAsync("d m smtp");
        Assert.Matches(@"abilisfast_smtp_accept_duration_seconds_count 1\r?\n", console);
        Assert.Contains("# EOF", console, StringComparison.Ordinal);

        // HEAD: the headers only; anything else is refused.
        (status, headers, body) = await CurlAsync(url, "-I");
        Assert.Equal(200, status);
        Assert.Equal(string.Empty, body);
        (status, headers, _) = await CurlAsync(url, "-X", "POST", "-d", "x=1");
        Assert.Equal(405, status);
        Assert.Contains("Allow: GET, HEAD", headers, StringComparison.Ordinal);
        (status, _, _) = await CurlAsync($"http://127.0.0.1:{port}/", "-X", "GET");
        Assert.Equal(404, status);
        (status, _, _) = await CurlAsync($"http://127.0.0.1:{port}/metrics/../etc/passwd", "--path-as-is");
        Assert.Equal(404, status);
        (status, _, _) = await CurlAsync(url, "-H", "X-Padding: " + new string('p', MetricsServer.MaxRequestBytes));
        Assert.Equal(431, status);
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task WithMetricsTokenOnlyTheBearerOfItGetsTheMetrics()
    {
        const string token = "s3cret-token-0123456789";
        int port = ServerProcess.FreePort();
        using ServerProcess server = await ServerProcess.StartAsync(parameters: [$"METRICS-PORT:{port}", $"METRICS-TOKEN:{token}"]);
        string url = $"http://127.0.0.1:{port}/metrics";

        (int status, string headers, _) = await CurlAsync(url);
        Assert.Equal(401, status);
        Assert.Contains("WWW-Authenticate: Bearer", headers, StringComparison.Ordinal);
        (status, _, _) = await CurlAsync(url, "-H", "Authorization: Bearer not-the-token-0123456");
        Assert.Equal(401, status);
        (status, _, string body) = await CurlAsync(url, "-H", $"Authorization: Bearer {token}");
        Assert.Equal(200, status);
        await PromtoolAcceptsAsync(body);
        (status, _, _) = await CurlAsync(url, "--oauth2-bearer", token);
        Assert.Equal(200, status);
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task SlowAndSurplusConnectionsAreCutOffAndTheEndpointStillAnswers()
    {
        int port = ServerProcess.FreePort();
        using ServerProcess server = await ServerProcess.StartAsync(parameters: [$"METRICS-PORT:{port}"]);
        string url = $"http://127.0.0.1:{port}/metrics";

        // MaxConnections clients that send half a request and wait hold every place…
        var slow = new List<TcpClient>();
        try
        {
            for (int i = 0; i < MetricsServer.MaxConnections; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
                slow.Add(client);
            }

            // …so one more is told so (each slow one is counted once its connection is accepted).
            await Eventually.WaitAsync(async () => (await CurlAsync(url)).Status == 503 ? "busy" : null, "a 503 while the places are held", Wait);

            // The deadline closes every slow connection without an answer; then the endpoint serves again.
            foreach (TcpClient client in slow)
            {
                byte[] buffer = new byte[256];
                int read = await client.GetStream().ReadAsync(buffer).AsTask().WaitAsync(Wait);
                Assert.Equal(0, read);
            }
        }
        finally
        {
            foreach (TcpClient client in slow)
            {
                client.Dispose();
            }
        }

        string body = await Eventually.WaitAsync(async () => await CurlAsync(url) is { Status: 200 } ok ? ok.Body : null, "a 200 after the deadline", Wait);
        await PromtoolAcceptsAsync(body);
        server.DeleteWorkDir();
    }

    [Fact]
    public async Task CheckConfigNamesBadMetricsValuesByFileAndLineAndWarnsAboutANonLoopbackAddress()
    {
        using var dir = new Configuration.TempDir();
        async Task<(string Conf, int Exit, string Output)> CheckAsync(string name, string content)
        {
            string conf = dir.Write(name, content);
            var (exit, output) = await ServerProcess.CheckConfigAsync("--config", conf, "--wdir", dir.Path);
            return (conf, exit, output.Trim());
        }

        var (conf, exit, output) = await CheckAsync("abilisfast.conf", "LOCAL-DOMAIN:local.test\nMETRICS-PORT:70000\n");
        Assert.Equal((2, $"abilisfast: {conf}:2: METRICS-PORT:70000 is invalid: allowed 0..65535"), (exit, output));

        (conf, exit, output) = await CheckAsync("addr.conf", "METRICS-PORT:9100\n\nMETRICS-ADDR:#\n");
        Assert.Equal((2, $"abilisfast: {conf}:3: METRICS-ADDR:# is invalid: allowed an IP address"), (exit, output));

        (conf, exit, output) = await CheckAsync("token.conf", "METRICS-PORT:9100 METRICS-TOKEN:short\n");
        Assert.Equal((2, $"abilisfast: {conf}:1: METRICS-TOKEN:******** is invalid: allowed empty, or 16..256 visible ASCII characters"), (exit, output));

        (_, exit, output) = await CheckAsync("open.conf", "METRICS-PORT:9100 METRICS-ADDR:0.0.0.0\n");
        Assert.Equal(0, exit);
        Assert.Contains("abilisfast: warning: METRICS-ADDR 0.0.0.0 is not a loopback address", output, StringComparison.Ordinal);
        Assert.Contains("configuration OK", output, StringComparison.Ordinal);
    }
}
