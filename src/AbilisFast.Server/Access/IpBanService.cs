using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;


namespace AbilisFast.Server.Access;

/// <summary>
/// IPBAN: counts failures (console logins) per address in a sliding FIND-TIME window; at MAX-FAIL a
/// non-white-listed address is banned for BAN-TIME and/or <see cref="Alert"/> is raised. Bans are
/// kept in <c>WDIR/ipban</c> and survive restarts. <see cref="IsBanned"/> is lock-free.
/// </summary>
internal sealed class IpBanService : IBanList, ILiveIpBanTarget
{
    /// <summary>At most this many addresses have failures counted; the stalest are forgotten first.</summary>
    public const int MaxTrackedAddresses = 10_000;

    /// <summary>At most this many bans; beyond it the ones ending soonest are dropped.</summary>
    public const int MaxBans = 100_000;

    private readonly ConcurrentDictionary<IPAddress, BanEntry> _bans = new();
    private readonly Dictionary<IPAddress, Queue<Failure>> _failures = new();
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly string _path;
    private IpBanOptions _options;

    public IpBanService(string workDirectory, TimeProvider time, IpBanOptions? options = null, Action<string>? log = null)
    {
        _time = time;
        _options = options ?? IpBanOptions.Default;
        Log = log;
        _path = Path.Combine(workDirectory, IpBanFile.FileName);
        foreach (BanEntry entry in IpBanFile.Load(_path, _time.GetUtcNow(), log))
        {
            _bans[entry.Address] = entry;
        }
    }

    /// <summary>Raised (outside any lock) when an address reaches MAX-FAIL and ACTION includes MAIL.</summary>
    public event Action<BanEvent>? Alert;

    /// <summary>Problems that must not stop the server: malformed ban-file lines, write failures.</summary>
    public Action<string>? Log { get; set; }

    public IpBanOptions Options
    {
        get => Volatile.Read(ref _options);
        set => Volatile.Write(ref _options, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>Number of addresses whose failures are being counted (for tests and display).</summary>
    public int TrackedAddresses
    {
        get
        {
            lock (_gate)
            {
                return _failures.Count;
            }
        }
    }

    /// <summary>Bans in force now (the IPBAN list size, for the metrics endpoint).</summary>
    public int BannedCount
    {
        get
        {
            DateTimeOffset now = _time.GetUtcNow();
            int count = 0;
            foreach (KeyValuePair<IPAddress, BanEntry> entry in _bans)
            {
                count += entry.Value.Until > now ? 1 : 0;
            }

            return count;
        }
    }

    /// <summary>
    /// The IPv6 prefix length failures are counted and bans made by (IPV6-PREFIX-SES, read at each use
    /// so a live change applies; 64 when not wired): one client usually holds a whole /64.
    /// </summary>
    public Func<int>? Ipv6PrefixLength { get; set; }

    /// <summary>The key an address is counted and banned by: IPv4 itself, IPv6 its IPV6-PREFIX-SES network.</summary>
    private IPAddress Key(IPAddress address) => PeerAddress.CountingKey(Normalize(address), Ipv6PrefixLength?.Invoke() ?? 64);

    public bool IsBanned(IPAddress address)
    {
        if (_bans.IsEmpty)
        {
            return false;
        }

        // The network first; then the address itself (a ban made with another IPV6-PREFIX-SES, or by an older version).
        IPAddress key = Key(address);
        if (!_bans.TryGetValue(key, out BanEntry? entry) && !_bans.TryGetValue(key = Normalize(address), out entry))
        {
            return false;
        }

        if (entry.Until > _time.GetUtcNow())
        {
            return true;
        }

        _bans.TryRemove(new KeyValuePair<IPAddress, BanEntry>(key, entry));
        return false;
    }

    /// <summary>Counts one failure of <paramref name="address"/>; <paramref name="what"/> says what failed.</summary>
    public void RecordFailure(IPAddress address, string what)
    {
        IpBanOptions options = Options;
        IPAddress key = Key(address);
        if (options.WhiteList.Contains(Normalize(address)) || IsBanned(key))
        {
            return;
        }

        DateTimeOffset now = _time.GetUtcNow();
        BanEvent? alert = null;
        lock (_gate)
        {
            if (!_failures.TryGetValue(key, out Queue<Failure>? times))
            {
                MakeRoom(now - options.FindTime);
                times = new Queue<Failure>();
                _failures[key] = times;
            }

            DateTimeOffset windowStart = now - options.FindTime;
            while (times.Count > 0 && (times.Peek().At <= windowStart || times.Count >= options.MaxFail))
            {
                times.Dequeue();
            }

            times.Enqueue(new Failure(now, what));
            if (times.Count < options.MaxFail)
            {
                return;
            }

            _failures.Remove(key);
            DateTimeOffset? until = null;
            if ((options.Action & IpBanAction.Ban) != 0)
            {
                until = now + options.BanTime;
                _bans[key] = new BanEntry(key, now, until.Value, options.MaxFail, what);
                TrimBans();
                Persist();
            }

            if ((options.Action & IpBanAction.Mail) != 0)
            {
                alert = new BanEvent(key, options.MaxFail, until, what)
                {
                    At = now,
                    FirstFailure = times.Peek().At,
                    FindTime = options.FindTime,
                    Reasons = times.Select(f => f.What).Distinct(StringComparer.Ordinal).ToArray(),
                };
            }
        }

        if (alert is not null)
        {
            Alert?.Invoke(alert);
        }
    }

    /// <summary>The bans in force, ending soonest first.</summary>
    public IReadOnlyList<BanEntry> List()
    {
        DateTimeOffset now = _time.GetUtcNow();
        return _bans.Values.Where(e => e.Until > now).OrderBy(e => e.Until).ThenBy(e => e.Address.ToString()).ToList();
    }

    /// <summary>Lifts the ban on <paramref name="address"/>; false when it was not banned.</summary>
    public bool Lift(IPAddress address)
    {
        IPAddress key = Key(address);
        lock (_gate)
        {
            _failures.Remove(key);
            if (!_bans.TryRemove(key, out BanEntry? entry) && !_bans.TryRemove(Normalize(address), out entry))
            {
                return false;
            }

            Persist();
            return entry.Until > _time.GetUtcNow();
        }
    }

    /// <summary>IPv4-mapped IPv6 becomes IPv4; an IPv6 scope id is dropped (<see cref="PeerAddress.Normalize(IPAddress)"/>).</summary>
    public static IPAddress Normalize(IPAddress address) => PeerAddress.Normalize(address);

    private void MakeRoom(DateTimeOffset windowStart)
    {
        if (_failures.Count < MaxTrackedAddresses)
        {
            return;
        }

        var stale = new List<IPAddress>();
        foreach (KeyValuePair<IPAddress, Queue<Failure>> pair in _failures)
        {
            if (pair.Value.Count == 0 || LastOf(pair.Value) <= windowStart)
            {
                stale.Add(pair.Key);
            }
        }

        // Nothing stale: forget the tenth whose latest failure is oldest, so this scan is rare.
        if (stale.Count == 0)
        {
            stale.AddRange(_failures.OrderBy(p => LastOf(p.Value)).Take(MaxTrackedAddresses / 10).Select(p => p.Key));
        }

        foreach (IPAddress key in stale)
        {
            _failures.Remove(key);
        }
    }

    private static DateTimeOffset LastOf(Queue<Failure> times)
    {
        DateTimeOffset last = DateTimeOffset.MinValue;
        foreach (Failure t in times)
        {
            last = t.At;
        }

        return last;
    }

    private void TrimBans()
    {
        if (_bans.Count <= MaxBans)
        {
            return;
        }

        foreach (BanEntry entry in _bans.Values.OrderBy(e => e.Until).Take(_bans.Count - MaxBans).ToList())
        {
            _bans.TryRemove(entry.Address, out _);
        }
    }

    private void Persist()
    {
        DateTimeOffset now = _time.GetUtcNow();
        try
        {
            IpBanFile.Save(_path, _bans.Values.Where(e => e.Until > now).OrderBy(e => e.Until));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log?.Invoke($"ipban: cannot write {_path}: {e.Message}");
        }
    }

    /// <summary>One counted failure: when, and what failed.</summary>
    private readonly record struct Failure(DateTimeOffset At, string What);
}
