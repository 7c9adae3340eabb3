using System.Net;
using AbilisFast.Protocol.Esmtp;
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

        NotificationRequest request = FailureRequest(message, envelope, state, wanted, lifetime);
        byte[] notification = DeliveryReport.Build(request);
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

    /// <summary>The failure notification (RFC 3464) for the <paramref name="wanted"/> recipients, with the reason of each.</summary>
    private NotificationRequest FailureRequest(QueuedMessage message, Envelope envelope, DeliveryState state, List<int> wanted, bool lifetime)
    {
        DateTimeOffset now = _context.Time.GetUtcNow();
        var recipients = new List<ReportedRecipient>(wanted.Count);
        foreach (int i in wanted)
        {
            string reason = state.LastReply[i] ?? "5.0.0 delivery failed";
            recipients.Add(new ReportedRecipient
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

        return ReportRequest(ReportKind.Failure, message, envelope, recipients, envelope.Return, lifetime, now);
    }

    /// <summary>
    /// A report on a queued message to its envelope sender: what every kind of report takes from the
    /// envelope (ENVID, arrival, the client), and the original opened from the spool.
    /// </summary>
    private NotificationRequest ReportRequest(ReportKind kind, QueuedMessage message, Envelope envelope, List<ReportedRecipient> recipients,
        DsnReturn returned, bool lifetime, DateTimeOffset date) => new()
        {
            Kind = kind,
            ReportingMta = _context.Settings.HeloHost,
            Sender = envelope.Sender,
            EnvelopeId = envelope.EnvelopeId,
            Arrival = envelope.Received,
            ReceivedFromMta = envelope.Client is IPAddress client ? $"dns; {envelope.Helo} ({client})" : null,
            Recipients = recipients,
            LifetimeExpired = lifetime,
            Return = returned,
            OpenOriginal = () => _context.Spool!.OpenBody(message.Id),
            Date = date,
        };

    /// <summary>
    /// A pickup file refused over HOP-LIMIT: the sender gets a failure notification (as Postfix
    /// bounces what its cleanup refuses), unless the sender is null or MAX-FAIL-NOTIF notifications
    /// already wait. Nothing was queued, so the report carries the header section from the file.
    /// </summary>
    private async Task NotifyPickupLoopAsync(string sender, IReadOnlyList<string> recipients, ReadOnlyMemory<byte> message, string reason)
    {
        if (sender.Length == 0)
        {
            _context.Log.Write(LogTag.Port, "No notification for a refused pickup file: null sender");
            return;
        }

        _context.Count(null, SmtpCounter.Notify, Direction.Out);
        if (_notifications.Count >= _context.Settings.MaxFailNotif)
        {
            _context.Count(null, SmtpCounter.NotifyFail, Direction.Out);
            _context.Log.Write(LogTag.Port, $"Notification for a refused pickup file dropped: {_notifications.Count} waiting, MAX-FAIL-NOTIF is {_context.Settings.MaxFailNotif}");
            return;
        }

        DateTimeOffset now = _context.Time.GetUtcNow();
        byte[] original = message.ToArray();
        var request = new NotificationRequest
        {
            ReportingMta = _context.Settings.HeloHost,
            Sender = sender,
            Arrival = now,
            Recipients = [.. recipients.Select(r => new ReportedRecipient
            {
                Address = r,
                Status = "5.4.6",
                Reason = reason,
                LastAttempt = now,
            })],
            OpenOriginal = () => new MemoryStream(original, writable: false),
            Date = now,
        };

        try
        {
            uint id = await InternalMail.SubmitAsync(_context, string.Empty, [sender], DeliveryReport.Build(request), InternalKind.Notification).ConfigureAwait(false);
            _notifications.TryAdd(id, 0);
            _context.Log.Write(LogTag.Port, $"Notification {SpoolIds.Format(id)} for a refused pickup file to <{sender}>");
        }
        catch (InternalMailException e)
        {
            _context.Log.Write(LogTag.Port, $"Notification for a refused pickup file not stored: {e.Message}");
        }
    }

    /// <summary>One recipient delivered or relayed in this attempt, for a success report.</summary>
    private readonly record struct Success(int Index, ReportAction Action, string Detail, string? Host);

    /// <summary>
    /// NOTIFY=SUCCESS: one success report (RFC 3464, from &lt;&gt;) for the recipients of this attempt
    /// that asked for it and were put into a local mailbox (delivered) or handed to a next hop that
    /// does not offer DSN (relayed); a next hop that offers DSN was given NOTIFY and reports itself.
    /// A report that cannot be stored is logged and not retried: the recipients are delivered.
    /// </summary>
    private async Task ReportSuccessAsync(OutSession session, QueuedMessage message, Envelope envelope, List<Success> succeeded)
    {
        if (envelope.IsNullSender)
        {
            return;
        }

        DateTimeOffset now = _context.Time.GetUtcNow();
        var recipients = new List<ReportedRecipient>();
        int delivered = 0, relayed = 0;
        foreach (Success success in succeeded)
        {
            EnvelopeRecipient recipient = envelope.Recipients[success.Index];
            if ((recipient.Notify & DsnNotify.Success) == 0 || (recipient.Notify & DsnNotify.Never) != 0)
            {
                continue;
            }

            bool relay = success.Action == ReportAction.Relayed;
            delivered += relay ? 0 : 1;
            relayed += relay ? 1 : 0;
            recipients.Add(new ReportedRecipient
            {
                Address = recipient.Address,
                OriginalRecipient = recipient.OriginalRecipient,
                Action = success.Action,
                Status = "2.0.0",
                RemoteMta = relay ? success.Host : null,
                DiagnosticCode = relay && IsSmtpReply(success.Detail) ? StripHost(success.Detail) : null,
                Reason = relay
                    ? $"relayed to {success.Host}, which does not offer delivery status notifications (DSN): no further report will come for this recipient, though a failure may still be reported by another system"
                    : StripCode(success.Detail),
                LastAttempt = now,
            });
        }

        if (recipients.Count == 0)
        {
            return;
        }

        if (await SubmitReportAsync(session, message, envelope, ReportKind.Success, recipients).ConfigureAwait(false))
        {
            _context.Reports.CountSuccess(delivered, relayed);
        }
    }

    /// <summary>
    /// NOTIFY=DELAY: one delay report for the recipients still pending that asked for it, once the
    /// message has waited DELAY-NOTIF-TIME. True when nothing more is to be done (sent, or nobody
    /// asked); false when the report could not be stored (tried again after the next attempt).
    /// </summary>
    private async Task<bool> ReportDelayAsync(OutSession session, QueuedMessage message, Envelope envelope, DeliveryState state)
    {
        if (envelope.IsNullSender)
        {
            return true;
        }

        DateTimeOffset now = _context.Time.GetUtcNow();
        DateTimeOffset until = envelope.Received + _context.Settings.QueueLifeTime;
        var recipients = new List<ReportedRecipient>();
        for (int i = 0; i < state.Status.Length; i++)
        {
            EnvelopeRecipient recipient = envelope.Recipients[i];
            if (state.Status[i] != RecipientStatus.Pending || !WantsDelayReport(recipient))
            {
                continue;
            }

            string reason = state.LastReply[i] ?? "4.0.0 not delivered yet";
            string? status = SmtpReply.LeadingEnhancedStatus(IsSmtpReply(reason) ? reason[4..] : reason);
            recipients.Add(new ReportedRecipient
            {
                Address = recipient.Address,
                OriginalRecipient = recipient.OriginalRecipient,
                Action = ReportAction.Delayed,
                Status = status is ['4', ..] ? status : "4.0.0",
                RemoteMta = RemoteHostOf(reason),
                DiagnosticCode = IsSmtpReply(reason) ? StripHost(reason) : null,
                Reason = reason,
                LastAttempt = now,
                WillRetryUntil = until,
            });
        }

        if (recipients.Count == 0)
        {
            return true;
        }

        if (!await SubmitReportAsync(session, message, envelope, ReportKind.Delay, recipients).ConfigureAwait(false))
        {
            return false;
        }

        _context.Reports.CountDelay(recipients.Count);
        return true;
    }

    /// <summary>A recipient that asked for a delay report: NOTIFY holds DELAY (never by default, as Postfix's delay_warning_time = 0).</summary>
    private static bool WantsDelayReport(EnvelopeRecipient recipient) =>
        (recipient.Notify & DsnNotify.Delay) != 0 && (recipient.Notify & DsnNotify.Never) == 0;

    /// <summary>Builds and queues a delay or success report to the envelope sender; false when it could not be stored.</summary>
    private async Task<bool> SubmitReportAsync(OutSession session, QueuedMessage message, Envelope envelope, ReportKind kind, List<ReportedRecipient> recipients)
    {
        LogTag tag = LogTag.Channel(session.Channel.Number);
        string id = SpoolIds.Format(message.Id);
        NotificationRequest request = ReportRequest(kind, message, envelope, recipients, DsnReturn.Headers, lifetime: false, _context.Time.GetUtcNow());

        byte[] report = DeliveryReport.Build(request);
        string what = kind == ReportKind.Delay ? "Delay report" : "Success report";
        try
        {
            uint reportId = await InternalMail.SubmitAsync(_context, string.Empty, [envelope.Sender], report, InternalKind.Report).ConfigureAwait(false);
            _context.Log.Write(tag, $"{what} {SpoolIds.Format(reportId)} for {id} to <{envelope.Sender}>: {recipients.Count} recipient(s)");
            return true;
        }
        catch (InternalMailException e)
        {
            _context.Log.Write(tag, $"{what} for {id} not stored: {e.Message}");
            return false;
        }
    }

    /// <summary>"250 2.0.0 delivered to mailbox s" without its reply code: "delivered to mailbox s".</summary>
    private static string StripCode(string detail)
    {
        if (!IsSmtpReply(detail))
        {
            return detail;
        }

        string text = detail[4..];
        return SmtpReply.LeadingEnhancedStatus(text) is { } status && text.Length > status.Length + 1 ? text[(status.Length + 1)..] : text;
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
