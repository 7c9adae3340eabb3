using System.Net;

namespace AbilisFast.Server.Access;

/// <summary>One ban in force, as the console lists it.</summary>
internal sealed record BanEntry(IPAddress Address, DateTimeOffset Since, DateTimeOffset Until, int Failures, string Reason);

/// <summary>
/// Raised when an address reaches MAX-FAIL and ACTION includes MAIL. <see cref="Until"/> is the end
/// of the ban, or null when ACTION is MAIL only (nothing banned). <see cref="What"/> is what failed
/// last; the init-only members describe the whole run of failures for the alert mail.
/// </summary>
internal sealed record BanEvent(IPAddress Address, int Failures, DateTimeOffset? Until, string What)
{
    /// <summary>When the last failure (the one that reached MAX-FAIL) happened.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>When the first failure counted in the window happened.</summary>
    public DateTimeOffset FirstFailure { get; init; }

    /// <summary>FIND-TIME when the alert was raised.</summary>
    public TimeSpan FindTime { get; init; }

    /// <summary>The distinct <c>what</c> texts of the counted failures, oldest first.</summary>
    public IReadOnlyList<string> Reasons { get; init; } = [];
}
