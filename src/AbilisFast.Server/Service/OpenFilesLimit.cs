using System.Runtime.InteropServices;

namespace AbilisFast.Server.Service;

/// <summary>
/// The open-files limit (RLIMIT_NOFILE). Every session holds a socket, so SES-TOT sessions need at
/// least that many descriptors besides the spool, the log and the listeners; the soft limit most
/// systems start a process with (1024) would refuse connections long before SES-TOT:10000. At start
/// the soft limit is raised to the hard one, as nginx's worker_rlimit_nofile or Postfix's master
/// (which raises it for its children) do; the hard limit itself is the administrator's (systemd's
/// LimitNOFILE=, ulimit -Hn).
/// </summary>
internal static unsafe partial class OpenFilesLimit
{
    /// <summary>RLIMIT_NOFILE on Linux (x64 and arm64 alike).</summary>
    private const int RlimitNoFile = 7;

    /// <summary>Descriptors kept for everything that is not a session: listeners, spool segments, log file, admin sessions, deliveries.</summary>
    public const int Reserve = 256;

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimitNative(int resource, RLimit* limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimitNative(int resource, RLimit* limit);

    /// <summary>struct rlimit: two rlim_t (unsigned long) on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    /// <summary>Raises the soft limit to the hard limit; returns (soft before, soft now, hard), or null where there is no such limit.</summary>
    public static (ulong Before, ulong Now, ulong Hard)? RaiseToHard()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        RLimit limit;
        if (GetRLimitNative(RlimitNoFile, &limit) != 0)
        {
            return null;
        }

        ulong before = limit.Current;
        if (limit.Current < limit.Maximum)
        {
            RLimit raised = limit;
            raised.Current = limit.Maximum;
            if (SetRLimitNative(RlimitNoFile, &raised) == 0)
            {
                limit = raised;
            }
        }

        return (before, limit.Current, limit.Maximum);
    }

    /// <summary>
    /// The warning for the start-up output when <paramref name="sessions"/> sessions (SES-TOT) would not
    /// fit in the limit, or null when they fit.
    /// </summary>
    public static string? Check(int sessions, ulong limit)
    {
        ulong needed = (ulong)sessions + Reserve;
        return limit >= needed
            ? null
            : $"open-files limit {limit} is below SES-TOT {sessions} + {Reserve}: connections past about {(limit > Reserve ? limit - Reserve : 0)} sessions will fail; raise it (LimitNOFILE= in the systemd unit, ulimit -Hn)";
    }
}
