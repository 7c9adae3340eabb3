using System.Collections.Concurrent;
using System.Net;

namespace AbilisFast.Server.Access;

/// <summary>Counts simultaneous inbound sessions per client address (MAX-IP-SES).</summary>
internal sealed class IpSessionLimiter
{
    private readonly ConcurrentDictionary<IPAddress, int> _sessions = new();

    /// <summary>Takes a slot for <paramref name="address"/>; false when it already has <paramref name="limit"/>.</summary>
    public bool TryEnter(IPAddress address, int limit)
    {
        while (true)
        {
            int current = _sessions.GetOrAdd(address, 0);
            if (current >= limit)
            {
                return false;
            }

            if (_sessions.TryUpdate(address, current + 1, current))
            {
                return true;
            }
        }
    }

    public void Leave(IPAddress address)
    {
        while (true)
        {
            if (!_sessions.TryGetValue(address, out int current))
            {
                return;
            }

            if (current <= 1)
            {
                if (_sessions.TryRemove(new KeyValuePair<IPAddress, int>(address, current)))
                {
                    return;
                }
            }
            else if (_sessions.TryUpdate(address, current - 1, current))
            {
                return;
            }
        }
    }

    public int Count(IPAddress address) => _sessions.TryGetValue(address, out int n) ? n : 0;
}
