using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using AbilisFast.Server.Configuration;

namespace AbilisFast.Server.Access;

/// <summary>The IPBAN settings (Abilis defaults: MAX-FAIL 10, FIND-TIME 1440 min, BAN-TIME 10080 min, WHITE-LIST PrivateIpAdd).</summary>
internal sealed record IpBanOptions
{
    public int MaxFail { get; init; } = 10;
    public TimeSpan FindTime { get; init; } = TimeSpan.FromMinutes(1440);
    public TimeSpan BanTime { get; init; } = TimeSpan.FromMinutes(10080);
    public IpAccessList WhiteList { get; init; } = NamedIpLists.BuiltInPrivate;
}

/// <summary>One ban in force.</summary>
internal readonly record struct BanEntry(IPAddress Address, DateTimeOffset Since, DateTimeOffset Until, int Failures);

/// <summary>
/// IPBAN: an address that fails MAX-FAIL times within FIND-TIME and is not on the WHITE-LIST is
/// banned for BAN-TIME; banned addresses are dropped at accept (BANNED-IP). Bans survive restarts
/// in WDIR/ipban (one line per ban: address, until and since in Unix seconds, failures), rewritten
/// atomically whenever the set changes.
/// </summary>
internal sealed class IpBanService : IBanList
{
    /// <summary>Addresses whose failures are tracked at once; the oldest are forgotten beyond it.</summary>
    public const int MaxTracked = 10_000;

    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly Action<string>? _log;
    private readonly ConcurrentDictionary<IPAddress, Queue<DateTimeOffset>> _failures = new();
    private readonly ConcurrentDictionary<IPAddress, BanEntry> _bans = new();
    private readonly Lock _saveLock = new();

    public IpBanService(string workDir, IpBanOptions options, TimeProvider? time = null, Action<string>? log = null)
    {
        _path = Path.Combine(workDir, "ipban");
        Options = options;
        _time = time ?? TimeProvider.System;
        _log = log;
        Load();
    }

    public IpBanOptions Options { get; }

    public bool IsBanned(IPAddress address)
    {
        if (_bans.IsEmpty || !_bans.TryGetValue(Normalize(address), out BanEntry ban))
        {
            return false;
        }

        if (ban.Until > _time.GetUtcNow())
        {
            return true;
        }

        if (_bans.TryRemove(new KeyValuePair<IPAddress, BanEntry>(ban.Address, ban)))
        {
            Save();
        }

        return false;
    }

    /// <summary>Counts one failure (a refused login); true when it led to a ban.</summary>
    public bool RecordFailure(IPAddress address, string what)
    {
        address = Normalize(address);
        if (Options.WhiteList.Contains(address))
        {
            return false;
        }

        DateTimeOffset now = _time.GetUtcNow();
        if (_failures.Count >= MaxTracked && !_failures.ContainsKey(address))
        {
            ForgetOldest();
        }

        Queue<DateTimeOffset> times = _failures.GetOrAdd(address, _ => new Queue<DateTimeOffset>());
        int count;
        lock (times)
        {
            times.Enqueue(now);
            while (times.Count > 0 && now - times.Peek() > Options.FindTime)
            {
                times.Dequeue();
            }

            count = times.Count;
            if (count < Options.MaxFail)
            {
                return false;
            }

            times.Clear();
        }

        _failures.TryRemove(address, out _);
        _bans[address] = new BanEntry(address, now, now + Options.BanTime, count);
        _log?.Invoke($"IPBAN: {address} banned until {now + Options.BanTime:dd/MM/yyyy HH:mm:ss} after {count} failures ({what})");
        Save();
        return true;
    }

    /// <summary>The bans in force, oldest first.</summary>
    public IReadOnlyList<BanEntry> List()
    {
        DateTimeOffset now = _time.GetUtcNow();
        return _bans.Values.Where(b => b.Until > now).OrderBy(b => b.Since).ToList();
    }

    /// <summary>Lifts a ban; false when the address was not banned.</summary>
    public bool Lift(IPAddress address)
    {
        address = Normalize(address);
        _failures.TryRemove(address, out _);
        if (!_bans.TryRemove(address, out _))
        {
            return false;
        }

        Save();
        return true;
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private void ForgetOldest()
    {
        IPAddress? oldest = null;
        DateTimeOffset oldestTime = DateTimeOffset.MaxValue;
        foreach (var (address, times) in _failures)
        {
            lock (times)
            {
                if (times.Count > 0 && times.Peek() < oldestTime)
                {
                    oldestTime = times.Peek();
                    oldest = address;
                }
            }
        }

        if (oldest is not null)
        {
            _failures.TryRemove(oldest, out _);
        }
    }

    private void Load()
    {
        if (!File.Exists(_path))
        {
            return;
        }

        DateTimeOffset now = _time.GetUtcNow();
        int number = 0;
        foreach (string line in File.ReadAllLines(_path))
        {
            number++;
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string[] parts = line.Split(' ');
            if (parts.Length != 4 || !IPAddress.TryParse(parts[0], out IPAddress? address)
                || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long until)
                || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long since)
                || !int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out int failures)
                || until > DateTimeOffset.MaxValue.ToUnixTimeSeconds() || since > until)
            {
                _log?.Invoke($"IPBAN: {_path}:{number}: malformed line skipped");
                continue;
            }

            var entry = new BanEntry(Normalize(address), DateTimeOffset.FromUnixTimeSeconds(since), DateTimeOffset.FromUnixTimeSeconds(until), failures);
            if (entry.Until > now)
            {
                _bans[entry.Address] = entry;
            }
        }
    }

    private void Save()
    {
        lock (_saveLock)
        {
            var text = new StringBuilder("# abilisfast IPBAN: ADDRESS UNTIL SINCE FAILURES (Unix seconds)\n");
            foreach (BanEntry ban in _bans.Values.OrderBy(b => b.Since))
            {
                text.Append(CultureInfo.InvariantCulture, $"{ban.Address} {ban.Until.ToUnixTimeSeconds()} {ban.Since.ToUnixTimeSeconds()} {ban.Failures}\n");
            }

            try
            {
                string temp = _path + ".tmp";
                using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
                {
                    file.Write(Encoding.UTF8.GetBytes(text.ToString()));
                    file.Flush(flushToDisk: true);
                }

                File.Move(temp, _path, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The ban still holds in memory; only its survival of a restart is at stake.
                _log?.Invoke($"IPBAN: cannot save {_path}: {e.Message}");
            }
        }
    }
}
