using System.Globalization;
using System.Net;

namespace AbilisFast.Load;

/// <summary>The command line of the load tool, parsed and checked.</summary>
internal sealed class LoadOptions
{
    public const string Usage = """
        usage: abilisfast-load --server HOST:PORT [--sessions 20] [--messages N | --duration 30s] [--size 1024] [--rcpts 1]
               [--rate R] [--grace 2s] [--warmup T] [--timeout 30s] [--pipelining on|off] [--per-connection N]
               [--from s@load.test] [--to r@load.test] [--helo load.test] [--ehlo on|off] [--accepted-ids FILE] [--allow-remote] [--json] [--quiet]

          --server HOST:PORT    target (127.0.0.0/8, ::1 or localhost unless --allow-remote); IPv6 as [::1]:PORT
          --sessions N          concurrent connections (default 20)
          --messages N          messages to send in all; or
          --duration T          stop starting messages after T (30s, 2m, 500ms; default 30s)
          --size N              message size in bytes, headers included (default 1024)
          --rcpts N             recipients per message (default 1; with N > 1: r1@.., r2@..)
          --rate R              open loop: start R messages per second by the clock, whatever the replies
                                (latency counted from each message's scheduled start); default: closed
                                loop, each session starts its next message when the last one ended
          --grace T             open loop: how long after the last scheduled start to wait for late
                                messages; those not started by then count as unsent (default 2s)
          --warmup T            leave the messages started in the first T out of the latency figures
                                (the client's own JIT warm-up; default 0)
          --timeout T           how long to wait for a connection or a reply before giving up on it (default 30s)
          --pipelining on|off   use PIPELINING when the server offers it (default on)
          --per-connection N    messages per connection, 0 = unlimited (default), 1 = a new connection per message
          --from ADDR           envelope and header sender (default s@load.test)
          --to ADDR             recipient (default r@load.test)
          --helo NAME           EHLO/HELO name (default load.test)
          --ehlo on|off         EHLO, or HELO only (default on)
          --accepted-ids FILE   write the Message-ID of every message answered 2xx after the final dot to FILE, one a line
          --allow-remote        allow a target that is not loopback
          --json                print the result as one JSON object
          --quiet               no progress lines on standard error
        """;

    public string ServerText { get; private set; } = string.Empty;
    public string Host { get; private set; } = string.Empty;
    public IPAddress? Address { get; private set; }
    public int Port { get; private set; }
    public int Sessions { get; private set; } = 20;
    public long Messages { get; private set; }
    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(30);
    public int Size { get; private set; } = 1024;
    public int Rcpts { get; private set; } = 1;
    public bool Pipelining { get; private set; } = true;

    /// <summary>--rate: messages per second offered by the clock (open loop); 0 = closed loop.</summary>
    public double Rate { get; private set; }

    /// <summary>--grace: open loop, how long late messages may still start after the schedule ends.</summary>
    public TimeSpan Grace { get; private set; } = TimeSpan.FromSeconds(2);

    /// <summary>--timeout: how long a session waits for a connection or a reply before giving up on it.</summary>
    public TimeSpan Timeout { get; private set; } = TimeSpan.FromSeconds(30);

    /// <summary>--warmup: messages started this early in the run are left out of the latency figures.</summary>
    public TimeSpan Warmup { get; private set; }
    public int PerConnection { get; private set; }
    public string From { get; private set; } = "s@load.test";
    public string To { get; private set; } = "r@load.test";
    public string Helo { get; private set; } = "load.test";
    public bool Ehlo { get; private set; } = true;
    public bool AllowRemote { get; private set; }
    public bool Json { get; private set; }
    public bool Quiet { get; private set; }

    /// <summary>--accepted-ids: where the Message-ID of each accepted message goes, or null.</summary>
    public string? AcceptedIdsFile { get; private set; }

    /// <summary>True when --messages bounds the run; otherwise --duration does.</summary>
    public bool ByCount => Messages > 0;

    /// <summary>Parses <paramref name="args"/>; returns null and sets <paramref name="error"/> when they are wrong.</summary>
    public static LoadOptions? Parse(string[] args, out string error)
    {
        var o = new LoadOptions();
        bool sawMessages = false;
        bool sawDuration = false;
        error = string.Empty;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            switch (name)
            {
                case "--allow-remote":
                    o.AllowRemote = true;
                    continue;
                case "--json":
                    o.Json = true;
                    continue;
                case "--quiet":
                    o.Quiet = true;
                    continue;
            }

            if (i + 1 >= args.Length)
            {
                error = $"{name}: unknown option or missing value";
                return null;
            }

            string value = args[++i];
            bool ok = name switch
            {
                "--server" => o.SetServer(value),
                "--sessions" => TryInt(value, 1, 100_000, out int v1) && Set(() => o.Sessions = v1),
                "--messages" => TryLong(value, 1, long.MaxValue / 2, out long v2) && Set(() => { o.Messages = v2; sawMessages = true; }),
                "--duration" => TryDuration(value, out TimeSpan d) && Set(() => { o.Duration = d; sawDuration = true; }),
                "--size" => TryInt(value, 1, 512 * 1024 * 1024, out int v3) && Set(() => o.Size = v3),
                "--rcpts" => TryInt(value, 1, 10_000, out int v4) && Set(() => o.Rcpts = v4),
                "--rate" => double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double r) && r > 0 && r <= 10_000_000 && Set(() => o.Rate = r),
                "--grace" => TryDuration(value, out TimeSpan g) && Set(() => o.Grace = g),
                "--timeout" => TryDuration(value, out TimeSpan t) && Set(() => o.Timeout = t),
                "--warmup" => TryDuration(value, out TimeSpan w) && Set(() => o.Warmup = w),
                "--pipelining" => TryOnOff(value, out bool p) && Set(() => o.Pipelining = p),
                "--per-connection" => TryInt(value, 0, int.MaxValue, out int v5) && Set(() => o.PerConnection = v5),
                "--from" => IsAddress(value) && Set(() => o.From = value),
                "--to" => IsAddress(value) && value.Length > 0 && Set(() => o.To = value),
                "--helo" => IsToken(value) && Set(() => o.Helo = value),
                "--ehlo" => TryOnOff(value, out bool e) && Set(() => o.Ehlo = e),
                "--accepted-ids" => value.Length > 0 && Set(() => o.AcceptedIdsFile = value),
                _ => false,
            };
            if (!ok)
            {
                error = $"{name} {value}: unknown option or invalid value";
                return null;
            }
        }

        if (o.ServerText.Length == 0)
        {
            error = "--server HOST:PORT is required";
            return null;
        }

        if (sawMessages && sawDuration)
        {
            error = "give --messages or --duration, not both";
            return null;
        }

        if (!o.AllowRemote && !o.IsLoopback)
        {
            error = $"{o.ServerText} is not a loopback address (127.0.0.0/8, ::1, localhost); add --allow-remote to load a remote server";
            return null;
        }

        return o;
    }

    /// <summary>True for localhost and for literal loopback addresses.</summary>
    public bool IsLoopback => Address is not null && IPAddress.IsLoopback(Address);

    private bool SetServer(string value)
    {
        string host;
        string port;
        if (value.StartsWith('['))
        {
            int close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= value.Length || value[close + 1] != ':')
            {
                return false;
            }

            host = value[1..close];
            port = value[(close + 2)..];
        }
        else
        {
            int colon = value.LastIndexOf(':');
            if (colon <= 0)
            {
                return false;
            }

            host = value[..colon];
            port = value[(colon + 1)..];
        }

        if (!TryInt(port, 1, 65535, out int p) || host.Length == 0)
        {
            return false;
        }

        ServerText = value;
        Host = host;
        Port = p;
        // localhost is loopback by definition (RFC 6761); no resolver is asked for it.
        Address = string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            ? IPAddress.Loopback
            : IPAddress.TryParse(host, out IPAddress? a) ? a : null;
        return true;
    }

    private static bool Set(Action action)
    {
        action();
        return true;
    }

    private static bool TryInt(string s, int min, int max, out int value) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    private static bool TryLong(string s, long min, long max, out long value) =>
        long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    private static bool TryOnOff(string s, out bool value)
    {
        value = s is "on" or "yes" or "true";
        return value || s is "off" or "no" or "false";
    }

    /// <summary>30s, 2m, 1h, 500ms or a plain number of seconds.</summary>
    internal static bool TryDuration(string s, out TimeSpan value)
    {
        value = default;
        (string number, double scale) = s switch
        {
            _ when s.EndsWith("ms", StringComparison.Ordinal) => (s[..^2], 0.001),
            _ when s.EndsWith('s') => (s[..^1], 1.0),
            _ when s.EndsWith('m') => (s[..^1], 60.0),
            _ when s.EndsWith('h') => (s[..^1], 3600.0),
            _ => (s, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double n) || n <= 0 || n * scale > 1e7)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(n * scale);
        return true;
    }

    /// <summary>An address fit to go between angle brackets: printable ASCII, no brackets or spaces.</summary>
    private static bool IsAddress(string s) => s.All(c => c > ' ' && c < 127 && c != '<' && c != '>');

    private static bool IsToken(string s) => s.Length > 0 && IsAddress(s);
}
