using AbilisFast.Protocol.Esmtp;
using AbilisFast.Server.Queue;

namespace AbilisFast.Server.Delivery;

/// <summary>What a report says happened to a recipient: the RFC 3464 Action field.</summary>
internal enum ReportAction
{
    /// <summary>Failed for good (a failure notification, NOTIFY=FAILURE or no NOTIFY).</summary>
    Failed,
    /// <summary>Still queued and being retried (NOTIFY=DELAY).</summary>
    Delayed,
    /// <summary>Put into a local mailbox (NOTIFY=SUCCESS).</summary>
    Delivered,
    /// <summary>Handed to a next hop that does not offer DSN, so no further report can be asked for (NOTIFY=SUCCESS).</summary>
    Relayed,
}

/// <summary>Which of the three reports a <see cref="NotificationRequest"/> asks for.</summary>
internal enum ReportKind
{
    /// <summary>Every recipient failed: a failure notification ("bounce").</summary>
    Failure,
    /// <summary>Every recipient is still queued: a warning, nothing to resend.</summary>
    Delay,
    /// <summary>Every recipient was delivered or relayed.</summary>
    Success,
}

/// <summary>One recipient that a report names, with what the remote side said.</summary>
internal sealed class ReportedRecipient
{
    /// <summary>The final recipient, e.g. far@elsewhere.test (may hold UTF-8).</summary>
    public required string Address { get; init; }

    /// <summary>ORCPT as received ("rfc822;a+2Bb@x.test", still xtext-encoded), or null.</summary>
    public string? OriginalRecipient { get; init; }

    /// <summary>The Action field; it must fit the report's <see cref="NotificationRequest.Kind"/>.</summary>
    public ReportAction Action { get; init; }

    /// <summary>RFC 3463 status code: "5.1.1" failed, "4.4.1" delayed, "2.0.0" delivered or relayed; "4.4.7" for an expired lifetime.</summary>
    public required string Status { get; init; }

    /// <summary>Host name of the server that gave the reply, or null.</summary>
    public string? RemoteMta { get; init; }

    /// <summary>The remote SMTP reply ("554 5.7.1 Relay access denied"), or null.</summary>
    public string? DiagnosticCode { get; init; }

    /// <summary>Human-readable reason for the text part.</summary>
    public required string Reason { get; init; }

    /// <summary>When delivery was last tried; default = not reported.</summary>
    public DateTimeOffset LastAttempt { get; init; }

    /// <summary>Delayed: when the server gives up (the arrival plus QUEUE-LIFE-TIME); default = not reported.</summary>
    public DateTimeOffset WillRetryUntil { get; init; }
}

/// <summary>Everything <see cref="DeliveryReport.Build"/> needs to write one RFC 3464 report.</summary>
internal sealed class NotificationRequest
{
    /// <summary>Failure (the default), delay or success.</summary>
    public ReportKind Kind { get; init; }

    /// <summary>Our own host name (HELOHOST).</summary>
    public required string ReportingMta { get; init; }

    /// <summary>Envelope sender of the original message: the To: of the notification. Must not be empty (null reverse-path).</summary>
    public required string Sender { get; init; }

    /// <summary>ENVID as received (xtext), or null.</summary>
    public string? EnvelopeId { get; init; }

    /// <summary>When the original message arrived; default = not reported.</summary>
    public DateTimeOffset Arrival { get; init; }

    /// <summary>"dns; client.example (192.0.2.1)", or null.</summary>
    public string? ReceivedFromMta { get; init; }

    /// <summary>The recipients to report, in order (at least one).</summary>
    public required IReadOnlyList<ReportedRecipient> Recipients { get; init; }

    /// <summary>True when the message was given up because its queue lifetime (QUEUE-LIFE-TIME) was spent.</summary>
    public bool LifetimeExpired { get; init; }

    /// <summary>
    /// Failure: Full = the whole original as message/rfc822; Headers or Unspecified =
    /// text/rfc822-headers. Delay and success reports return the header section only (RFC 3461 4.3).
    /// </summary>
    public DsnReturn Return { get; init; }

    /// <summary>Opens the original message as stored (header section and body, CRLF lines); the stream is disposed after reading.</summary>
    public required Func<Stream> OpenOriginal { get; init; }

    /// <summary>Date: of the notification; default = now.</summary>
    public DateTimeOffset Date { get; init; }
}
