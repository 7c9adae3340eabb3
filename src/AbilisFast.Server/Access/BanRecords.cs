using System.Net;

namespace AbilisFast.Server.Access;

/// <summary>One ban in force, as the console lists it.</summary>
internal sealed record BanEntry(IPAddress Address, DateTimeOffset Since, DateTimeOffset Until, int Failures, string Reason);

/// <summary>
/// Raised when an address reaches MAX-FAIL and ACTION includes MAIL. <see cref="Until"/> is the end
/// of the ban, or null when ACTION is MAIL only (nothing banned).
/// </summary>
internal sealed record BanEvent(IPAddress Address, int Failures, DateTimeOffset? Until, string What);
