using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace AbilisFast.Load;

/// <summary>
/// abilisfast-load: an SMTP load generator for any server. Exit codes: 0 the run took place (even
/// when the server refused every message), 1 no connection could be made, 2 bad arguments or a
/// target that is not loopback without --allow-remote.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // Run socket continuations on the socket engine's own thread instead of queueing each one
        // to the thread pool: the session code between two socket calls is short and never blocks,
        // and on 2 cores this saves about a quarter of the client's CPU. Must be set before the
        // first socket is made; an explicit setting in the environment wins.
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
        {
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        }

        LoadOptions? options = LoadOptions.Parse(args, out string error);
        if (options is null)
        {
            Console.Error.WriteLine("abilisfast-load: " + error);
            Console.Error.WriteLine(LoadOptions.Usage);
            return 2;
        }

        IPAddress? address = options.Address;
        if (address is null)
        {
            // Only reached with --allow-remote and a host name.
            try
            {
                IPAddress[] found = await Dns.GetHostAddressesAsync(options.Host).ConfigureAwait(false);
                address = found.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? found.FirstOrDefault();
            }
            catch (SocketException e)
            {
                Console.Error.WriteLine($"abilisfast-load: {options.Host}: {e.Message}");
                return 1;
            }

            if (address is null)
            {
                Console.Error.WriteLine($"abilisfast-load: {options.Host}: no address");
                return 1;
            }
        }

        LoadRun run;
        try
        {
            run = new LoadRun(options, new IPEndPoint(address, options.Port));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"abilisfast-load: --accepted-ids {options.AcceptedIdsFile}: {e.Message}");
            return 2;
        }

        LoadResult result;
        using (run.AcceptedIds)
        {
            result = await run.RunAsync().ConfigureAwait(false);
        }
        if (options.Json)
        {
            WriteJson(result);
        }
        else
        {
            WriteText(result);
        }

        if (result.Connections == 0)
        {
            Console.Error.WriteLine($"abilisfast-load: no connection to {options.ServerText} could be made");
            return 1;
        }

        return 0;
    }

    private static void WriteJson(LoadResult r)
    {
        using Stream stdout = Console.OpenStandardOutput();
        using (var json = new Utf8JsonWriter(stdout))
        {
            json.WriteStartObject();
            json.WriteNumber("messages", r.Messages);
            json.WriteNumber("accepted", r.Accepted);
            json.WriteNumber("elapsed_s", Math.Round(r.ElapsedSeconds, 3));
            json.WriteNumber("messages_per_s", Math.Round(r.MessagesPerSecond, 1));
            json.WriteNumber("p50_ms", r.P50Ms);
            json.WriteNumber("p90_ms", r.P90Ms);
            json.WriteNumber("p99_ms", r.P99Ms);
            json.WriteNumber("p999_ms", r.P999Ms);
            json.WriteNumber("accept_p50_ms", r.Accept.ValueAt(50) / 1000.0);
            json.WriteNumber("accept_p90_ms", r.Accept.ValueAt(90) / 1000.0);
            json.WriteNumber("accept_p99_ms", r.Accept.ValueAt(99) / 1000.0);
            json.WriteNumber("accept_p999_ms", r.Accept.ValueAt(99.9) / 1000.0);
            json.WriteNumber("offered_per_s", r.OfferedPerSecond);
            json.WriteNumber("unsent", r.Unsent);
            json.WriteNumber("lag_p99_ms", r.LagP99Ms);
            WritePercentiles(json, "percentiles", r.Latency);
            WritePercentiles(json, "accept_percentiles", r.Accept);
            json.WriteNumber("replies_2xx", r.Replies2xx);
            json.WriteNumber("replies_4xx", r.Replies4xx);
            json.WriteNumber("replies_5xx", r.Replies5xx);
            json.WriteNumber("errors", r.Errors);
            json.WriteNumber("connections", r.Connections);
            json.WriteNumber("errors_connect", r.ConnectFailures);
            json.WriteNumber("errors_dropped", r.Dropped);
            json.WriteNumber("errors_timeout", r.Timeouts);
            json.WriteNumber("errors_malformed", r.Malformed);
            json.WriteEndObject();
        }

        stdout.Write("\n"u8);
    }

    /// <summary>The percentile curve: [percentile, ms] pairs from 0 to 100, HdrHistogram's usual points.</summary>
    private static void WritePercentiles(Utf8JsonWriter json, string name, LatencyHistogram h)
    {
        ReadOnlySpan<double> points = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100];
        json.WriteStartArray(name);
        foreach (double p in points)
        {
            json.WriteStartArray();
            json.WriteNumberValue(p);
            json.WriteNumberValue(h.ValueAt(p) / 1000.0);
            json.WriteEndArray();
        }

        json.WriteEndArray();
    }

    private static void WriteText(LoadResult r)
    {
        CultureInfo ic = CultureInfo.InvariantCulture;
        Console.Out.Write(string.Create(ic, $"""
            messages sent      {r.Messages}
            messages accepted  {r.Accepted}
            elapsed            {r.ElapsedSeconds:F3} s
            messages/s         {r.MessagesPerSecond:F0}
            latency (ms)       p50 {r.P50Ms:F3}  p90 {r.P90Ms:F3}  p99 {r.P99Ms:F3}  p99.9 {r.P999Ms:F3}{(r.OfferedPerSecond > 0 ? "  (from each message's scheduled start)" : "  (from MAIL)")}
            accept (ms)        p50 {r.Accept.ValueAt(50) / 1000.0:F3}  p90 {r.Accept.ValueAt(90) / 1000.0:F3}  p99 {r.Accept.ValueAt(99) / 1000.0:F3}  p99.9 {r.Accept.ValueAt(99.9) / 1000.0:F3}  (final dot to its reply){(r.OfferedPerSecond > 0 ? $"\noffered            {r.OfferedPerSecond:F0} messages/s; unsent {r.Unsent}; pacer lag p99 {r.LagP99Ms:F3} ms" : string.Empty)}
            replies            2xx {r.Replies2xx}  4xx {r.Replies4xx}  5xx {r.Replies5xx}
            errors             {r.Errors} (connect {r.ConnectFailures}, dropped {r.Dropped}, timeouts {r.Timeouts}, malformed {r.Malformed})
            connections        {r.Connections}
            client allocated   {GC.GetTotalAllocatedBytes() / 1024} KiB in all

            """));
    }
}
