using System.Globalization;
using System.Text;
using AbilisFast.Protocol.Lines;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Runtime;

namespace AbilisFast.Server.Display;

/// <summary>
/// <c>d q smtp</c>: every queued message (what Postfix's mailq shows): id, state (OUT waiting in
/// QUEUE-OUT, DEFER in QUEUE-DEFER, HOLD on hold, ACTIVE being delivered), size, age, next try,
/// sender, then each recipient with the last reply or error that concerned it; the first
/// <see cref="MaxListed"/> of them.
/// </summary>
internal static class QueueDisplay
{
    public const int MaxListed = 200;

    /// <summary>Where the sender starts on a message's line (7 + id 9 + state 7 + size 11 + age 11 + next try 9); recipients line up under it.</summary>
    private const int RecipientColumn = 54;

    public static string Format(SmtpContext context)
    {
        IReadOnlyList<QueueEntry> entries = context.QueueControl?.List()
            ?? [
                .. context.Queue.Snapshot().Select(m => new QueueEntry(m, QueueEntryState.Out, null, 0, [])),
                .. context.Queue.DeferredSnapshot().Select(d => new QueueEntry(d.Message, QueueEntryState.Defer, d.DueUnixMs, 0, [])),
            ];
        int held = entries.Count(e => e.State == QueueEntryState.Hold);
        DateTimeOffset now = context.Time.GetUtcNow();
        var text = new StringBuilder();
        SmtpDisplay.AppendResourceHeader(text);
        text.Append(CultureInfo.InvariantCulture, $"       QUEUE-OUT:{context.Queue.OutCount,-12}QUEUE-DEFER:{context.Queue.DeferCount,-10}HOLD:{held}\r\n");
        text.Append("       ID       STATE  SIZE       AGE        NEXT-TRY FROM / TO\r\n");
        foreach (QueueEntry entry in entries.Take(MaxListed))
        {
            QueuedMessage message = entry.Message;
            TimeSpan age = now - DateTimeOffset.FromUnixTimeMilliseconds(message.ReceivedUnixMs);
            if (age < TimeSpan.Zero)
            {
                age = TimeSpan.Zero;
            }

            string sender = "?";
            IReadOnlyList<EnvelopeRecipient> recipients = [];
            if (context.Spool?.ReadEnvelope(message.Id) is { } bytes && Envelope.TryRead(bytes, out Envelope? envelope))
            {
                // Addresses are checked at MAIL and RCPT; an older spool or a pickup file may still hold anything.
                sender = UnsafeText.ForDisplay(envelope!.Sender);
                recipients = envelope.Recipients;
            }

            string next = entry.NextTryUnixMs is long due
                ? DateTimeOffset.FromUnixTimeMilliseconds(due).ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture)
                : "-";
            text.Append(CultureInfo.InvariantCulture,
                $"       {message.Id:X8} {Label(entry.State),-6} {message.Size,-10} {(int)age.TotalDays}d{age:hh\\:mm\\:ss} {next,-8} <{sender}>\r\n");
            for (int i = 0; i < recipients.Count; i++)
            {
                text.Append(' ', RecipientColumn).Append('<').Append(UnsafeText.ForDisplay(recipients[i].Address)).Append('>');
                if (i < entry.LastReplies.Count && entry.LastReplies[i] is { } reply)
                {
                    text.Append(' ').Append(reply);
                }

                text.Append("\r\n");
            }
        }

        if (entries.Count > MaxListed)
        {
            text.Append(CultureInfo.InvariantCulture, $"       ... and {entries.Count - MaxListed} more\r\n");
        }

        return text.ToString();
    }

    private static string Label(QueueEntryState state) => state switch
    {
        QueueEntryState.Out => "OUT",
        QueueEntryState.Defer => "DEFER",
        QueueEntryState.Hold => "HOLD",
        _ => "ACTIVE",
    };
}
