using System.Net;
using AbilisFast.Server.Diagnostics;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Spool;
using AbilisFast.Server.Submission;

namespace AbilisFast.Server.Delivery;

internal sealed partial class DeliveryEngine
{
    /// <summary>
    /// Queues one failure notification (RFC 3464) to the envelope sender for <paramref name="failed"/>.
    /// None for the null sender (no loops), none for recipients that asked NOTIFY=NEVER or NOTIFY
    /// without FAILURE; over MAX-FAIL-NOTIF waiting notifications, it is logged and dropped.
    /// False only when the notification was due but could not be stored (the caller retries later).
    /// </summary>
    private async Task<bool> NotifyAsync(OutSession session, QueuedMessage message, Envelope envelope, DeliveryState state,
        List<int> failed, bool lifetime)
    {
        LogTag tag = LogTag.Channel(session.Channel.Number);
        string id = SpoolIds.Format(message.Id);
        if (envelope.IsNullSender)
        {
            _context.Log.Write(tag, $"No notification for {id}: null sender");
            return true;
        }

        var wanted = new List<int>(failed.Count);
        foreach (int i in failed)
        {
            DsnNotify notify = envelope.Recipients[i].Notify;
            if (notify == DsnNotify.None || (notify & DsnNotify.Failure) != 0)
            {
                wanted.Add(i);
            }
        }

        if (wanted.Count == 0)
        {
            _context.Log.Write(tag, $"No notification for {id}: NOTIFY excludes FAILURE");
            return true;
        }

        _context.Count(session.Channel, SmtpCounter.Notify, Direction.Out);
        if (lifetime)
        {
            _context.Count(session.Channel, SmtpCounter.NotifyLt, Direction.Out);
        }

        if (_notifications.Count >= _context.Settings.MaxFailNotif)
        {
            _context.Count(session.Channel, SmtpCounter.NotifyFail, Direction.Out);
            _context.Log.Write(tag, $"Notification for {id} dropped: {_notifications.Count} waiting, MAX-FAIL-NOTIF is {_context.Settings.MaxFailNotif}");
            return true;
        }

        DateTimeOffset now = _context.Time.GetUtcNow();
        var recipients = new List<FailedRecipient>(wanted.Count);
        foreach (int i in wanted)
        {
            string reason = state.LastReply[i] ?? "5.0.0 delivery failed";
            recipients.Add(new FailedRecipient
            {
                Address = envelope.Recipients[i].Address,
                OriginalRecipient = envelope.Recipients[i].OriginalRecipient,
                Status = StatusOf(reason, lifetime),
                RemoteMta = RemoteHostOf(reason),
                DiagnosticCode = IsSmtpReply(reason) ? StripHost(reason) : null,
                Reason = lifetime ? $"the message could not be delivered within {(long)_context.Settings.QueueLifeTime.TotalSeconds} seconds ({reason})" : reason,
                LastAttempt = now,
            });
        }

        var request = new NotificationRequest
        {
            ReportingMta = _context.Settings.HeloHost,
            Sender = envelope.Sender,
            EnvelopeId = envelope.EnvelopeId,
            Arrival = envelope.Received,
            ReceivedFromMta = envelope.Client is IPAddress client ? $"dns; {envelope.Helo} ({client})" : null,
            Recipients = recipients,
            LifetimeExpired = lifetime,
            Return = envelope.Return,
            OpenOriginal = () => _context.Spool!.OpenBody(message.Id),
            Date = now,
        };

        byte[] notification = FailureNotification.Build(request);
        try
        {
            uint notificationId = await InternalMail.SubmitAsync(_context, string.Empty, [envelope.Sender], notification, InternalKind.Notification).ConfigureAwait(false);
            _notifications.TryAdd(notificationId, 0);
            _context.Log.Write(tag, $"Notification {SpoolIds.Format(notificationId)} for {id} to <{envelope.Sender}>: {wanted.Count} recipient(s) failed");
            return true;
        }
        catch (InternalMailException e)
        {
            _context.Log.Write(tag, $"Notification for {id} not stored: {e.Message}; retried later");
            return false;
        }
    }

    /// <summary>The enhanced status code for a failed recipient's reason text.</summary>
    private static string StatusOf(string reason, bool lifetime)
    {
        if (lifetime)
        {
            return "4.4.7";
        }

        string? status = SmtpReply.LeadingEnhancedStatus(IsSmtpReply(reason) ? reason[4..] : reason);
        if (status is not null && status[0] is '4' or '5')
        {
            // A lifetime expiry can carry a 4.x.x reply; the recipient still failed for good.
            return status[0] == '4' ? "5" + status[1..] : status;
        }

        return "5.0.0";
    }

    private static bool IsSmtpReply(string reason) =>
        reason.Length >= 4 && char.IsAsciiDigit(reason[0]) && char.IsAsciiDigit(reason[1]) && char.IsAsciiDigit(reason[2]) && reason[3] == ' ';

    /// <summary>"(from host)" at the end of a remote reply names the server that gave it.</summary>
    private static string? RemoteHostOf(string reason)
    {
        int from = reason.LastIndexOf(" (from ", StringComparison.Ordinal);
        return from >= 0 && reason.EndsWith(')') ? reason[(from + 7)..^1] : null;
    }

    private static string StripHost(string reason)
    {
        int from = reason.LastIndexOf(" (from ", StringComparison.Ordinal);
        return from >= 0 && reason.EndsWith(')') ? reason[..from] : reason;
    }
}
