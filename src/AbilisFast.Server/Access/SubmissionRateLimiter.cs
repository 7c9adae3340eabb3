using System.Collections.Concurrent;

namespace AbilisFast.Server.Access;

/// <summary>
/// SUBMISSION-RATE: how many messages each authenticated user has started in the current minute.
/// Like Postfix's anvil(8) behind smtpd_client_message_rate_limit, the count is kept per fixed time
/// unit (one minute, anvil_rate_time_unit's default) that starts with the user's first message; a
/// MAIL over the limit is refused until the unit is over. Postfix counts per client address; here
/// the key is the SASL user, since a leaked device password is used from anywhere.
/// </summary>
internal sealed class SubmissionRateLimiter
{
    /// <summary>The length of one counting unit.</summary>
    public static readonly TimeSpan TimeUnit = TimeSpan.FromMinutes(1);

    /// <summary>Past this many users, expired units are dropped at the next count.</summary>
    private const int PruneAbove = 1024;

    private readonly ConcurrentDictionary<string, Unit> _units = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Counts one message for <paramref name="user"/> when the unit still has room under
    /// <paramref name="limit"/> (0 = no limit) and returns true; false (nothing counted) when the
    /// limit is reached.
    /// </summary>
    public bool TryTake(string user, int limit, DateTimeOffset now)
    {
        if (limit <= 0)
        {
            return true;
        }

        if (_units.Count > PruneAbove)
        {
            Prune(now);
        }

        Unit unit = _units.GetOrAdd(user, static _ => new Unit());
        lock (unit)
        {
            if (now - unit.Start >= TimeUnit || now < unit.Start)
            {
                unit.Start = now;
                unit.Count = 0;
            }

            if (unit.Count >= limit)
            {
                return false;
            }

            unit.Count++;
            return true;
        }
    }

    /// <summary>Messages counted for <paramref name="user"/> in its current unit (0 when it is over).</summary>
    public int CountOf(string user, DateTimeOffset now)
    {
        if (!_units.TryGetValue(user, out Unit? unit))
        {
            return 0;
        }

        lock (unit)
        {
            return now - unit.Start >= TimeUnit ? 0 : unit.Count;
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (KeyValuePair<string, Unit> entry in _units)
        {
            bool expired;
            lock (entry.Value)
            {
                expired = now - entry.Value.Start >= TimeUnit;
            }

            if (expired)
            {
                _units.TryRemove(entry);
            }
        }
    }

    private sealed class Unit
    {
        public DateTimeOffset Start = DateTimeOffset.MinValue;
        public int Count;
    }
}
