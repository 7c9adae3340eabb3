using AbilisFast.Server.Queue;

namespace AbilisFast.Server.Delivery;

/// <summary>One recipient that a failure notification reports, with what the remote side said.</summary>
internal sealed class FailedRecipient
{
    /// <summary>The final recipient, e.g. far@elsewhere.test (may hold UTF-8).</summary>
    public required string Address { get; init; }

    /// <summary>ORCPT as received ("rfc822;a+2Bb@x.test", still xtext-encoded), or null.</summary>
    public string? OriginalRecipient { get; init; }

    /// <summary>RFC 3463 status code, "5.1.1"; "4.4.7" for an expired message lifetime.</summary>
    public required string Status { get; init; }

    /// <summary>Host name of the server that gave the reply, or null.</summary>
    public string? RemoteMta { get; init; }

    /// <summary>The remote SMTP reply ("554 5.7.1 Relay access denied"), or null.</summary>
    public string? DiagnosticCode { get; init; }

    /// <summary>Human-readable reason for the text part.</summary>
    public required string Reason { get; init; }

    /// <summary>When delivery was last tried; default = not reported.</summary>
    public DateTimeOffset LastAttempt { get; init; }
}

/// <summary>Everything <see cref="FailureNotification.Build"/> needs to write one RFC 3464 failure notification.</summary>
internal sealed class NotificationRequest
{
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

    /// <summary>The recipients that failed, in the order to report them (at least one).</summary>
    public required IReadOnlyList<FailedRecipient> Recipients { get; init; }

    /// <summary>True when the message was given up because its queue lifetime (QUEUE-LIFE-TIME) was spent.</summary>
    public bool LifetimeExpired { get; init; }

    /// <summary>Full = the whole original as message/rfc822; Headers or Unspecified = text/rfc822-headers.</summary>
    public DsnReturn Return { get; init; }

    /// <summary>Opens the original message as stored (header section and body, CRLF lines); the stream is disposed after reading.</summary>
    public required Func<Stream> OpenOriginal { get; init; }

    /// <summary>Date: of the notification; default = now.</summary>
    public DateTimeOffset Date { get; init; }
}
