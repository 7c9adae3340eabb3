using System.Globalization;
using System.Text;
using AbilisFast.Server.Queue;

namespace AbilisFast.Server.Console;

/// <summary>
/// <c>d q smtp</c>: the messages in QUEUE-OUT (state OUT) and QUEUE-DEFER (state DEFER) with id, state, size, age, sender and recipients
/// (what Postfix's mailq shows), the first <see cref="MaxListed"/> of them.
/// </summary>
internal static class QueueDisplay
{
    public const int MaxListed = 200;

    /// <summary>Where the sender starts on a message's line (7 + id 9 + state 6 + size 11 + age 11); recipients line up under it.</summary>
    private const int RecipientColumn = 44;

    public static string Format(SmtpContext context)
    {
        (QueuedMessage Message, string State)[] queued =
        [
            .. context.Queue.Snapshot().Select(m => (m, "OUT  ")),
            .. context.Queue.DeferredSnapshot().Select(d => (d.Message, "DEFER")),
        ];
        DateTimeOffset now = context.Time.GetUtcNow();
        var text = new StringBuilder();
        SmtpDisplay.AppendResourceHeader(text);
        text.Append(CultureInfo.InvariantCulture, $"       QUEUE-OUT:{context.Queue.OutCount,-12}QUEUE-DEFER:{context.Queue.DeferCount}\r\n");
        text.Append("       ID       STATE SIZE       AGE        FROM / TO\r\n");
        foreach ((QueuedMessage message, string state) in queued.Take(MaxListed))
        {
            TimeSpan age = now - DateTimeOffset.FromUnixTimeMilliseconds(message.ReceivedUnixMs);
            if (age < TimeSpan.Zero)
            {
                age = TimeSpan.Zero;
            }

            string sender = "?";
            IReadOnlyList<EnvelopeRecipient> recipients = [];
            if (context.Spool?.ReadEnvelope(message.Id) is { } bytes && Envelope.TryRead(bytes, out Envelope? envelope))
            {
                sender = envelope!.Sender;
                recipients = envelope.Recipients;
            }

            text.Append(CultureInfo.InvariantCulture,
                $"       {message.Id:X8} {state} {message.Size,-10} {(int)age.TotalDays}d{age:hh\\:mm\\:ss} <{sender}>\r\n");
            foreach (EnvelopeRecipient recipient in recipients)
            {
                text.Append(' ', RecipientColumn).Append('<').Append(recipient.Address).Append(">\r\n");
            }
        }

        if (queued.Length > MaxListed)
        {
            text.Append(CultureInfo.InvariantCulture, $"       ... and {queued.Length - MaxListed} more\r\n");
        }

        return text.ToString();
    }
}
