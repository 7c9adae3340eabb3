using System.Collections.Concurrent;
using System.Globalization;
using System.Net;

namespace AbilisFast.Server.Delivery;

/// <summary>
/// Hosts in trouble (Postfix's dead destinations): a host that could not be reached, did not
/// answer within OUT-TIMEOUT, dropped the connection or refused the session with a 4xx is not
/// tried again for MAIL-TRY-DELAY. Other messages for it are deferred at once with the reason
/// instead of each holding an OUT channel for another OUT-TIMEOUT; an MX domain goes on with its
/// next host. A black-holed relay server therefore costs one stuck OUT session per MAIL-TRY-DELAY,
/// not one per queued message. A session that works again, and <c>retry q smtp</c>, forget it.
/// </summary>
internal sealed partial class DeliveryEngine
{
    private readonly ConcurrentDictionary<IPEndPoint, HostTrouble> _troubledHosts = new();

    /// <summary>Why and until when a host is not tried.</summary>
    // A class, not a record: TroubleOf removes an expired entry only if it is still the same object
    // (reference equality), and nothing prints it (see docs/performance.md, The binary's bytes).
    private sealed class HostTrouble(DateTimeOffset since, DateTimeOffset until, SmtpClientException error)
    {
        public DateTimeOffset Since { get; } = since;

        public DateTimeOffset Until { get; } = until;

        public SmtpClientException Error { get; } = error;
    }

    /// <summary>
    /// Whether a failure says the host cannot hold a session now (rather than refusing this one
    /// message): no connection, a timeout at any step, a connection lost or a malformed reply
    /// while connecting, or a 4xx (421 included) to the greeting or EHLO. TLS and AUTH refusals
    /// (4.7.x) are about our settings or its certificate, not the host's health: not counted.
    /// </summary>
    private static bool IsHostTrouble(SmtpClientException e, bool connecting)
    {
        if (e.IsPermanent || e.TlsFailed || e.Status.StartsWith("4.7.", StringComparison.Ordinal))
        {
            return false;
        }

        if (e.TimedOut)
        {
            return true;
        }

        if (!connecting)
        {
            return false; // a drop in the middle of one message may be about that message
        }

        return e.Reply is null || (e.Reply.IsTransient && e.Reply.EnhancedStatus?.StartsWith("4.7.", StringComparison.Ordinal) != true);
    }

    private void NoteTrouble(IPEndPoint endpoint, SmtpClientException e, bool connecting)
    {
        if (!IsHostTrouble(e, connecting))
        {
            return;
        }

        DateTimeOffset now = _context.Time.GetUtcNow();
        _troubledHosts[endpoint] = new HostTrouble(now, now + _context.Settings.MailTryDelay, e);
    }

    private void NoteWorking(IPEndPoint endpoint) => _troubledHosts.TryRemove(endpoint, out _);

    /// <summary>The trouble that keeps <paramref name="endpoint"/> from being tried now, or null.</summary>
    private HostTrouble? TroubleOf(IPEndPoint endpoint)
    {
        if (!_troubledHosts.TryGetValue(endpoint, out HostTrouble? trouble))
        {
            return null;
        }

        if (trouble.Until > _context.Time.GetUtcNow())
        {
            return trouble;
        }

        _troubledHosts.TryRemove(KeyValuePair.Create(endpoint, trouble));
        return null;
    }

    /// <summary>The error a message skipped because of <paramref name="trouble"/> is deferred with.</summary>
    private static SmtpClientException Skipped(HostTrouble trouble) =>
        new($"{trouble.Error.Message} (at {Clock(trouble.Since)}; not tried again before {Clock(trouble.Until)})", trouble.Error.Reply)
        {
            Status = trouble.Error.Status,
        };

    private static string Clock(DateTimeOffset time) => time.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary><c>retry q smtp</c>: try every host again now (Postfix's flush also revives dead destinations).</summary>
    private void ForgetTroubles() => _troubledHosts.Clear();
}
