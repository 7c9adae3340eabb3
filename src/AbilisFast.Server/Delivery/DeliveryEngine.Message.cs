using System.Text;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Mailboxes;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Recipients;
using AbilisFast.Server.Spool;

namespace AbilisFast.Server.Delivery;

internal sealed partial class DeliveryEngine
{
    /// <summary>One delivery attempt of one message: every pending recipient, grouped by destination.</summary>
    private async Task DeliverAsync(OutSession session, QueuedMessage message)
    {
        // The previous message may have ended on the socket thread (a remote reply completes inline
        // there): Maildir writes and their fsyncs must not run on it, they would stall every session.
        await Task.Yield();
        SpoolStore spool = _context.Spool!;
        LogTag tag = LogTag.Channel(session.Channel.Number);
        session.Channel.SmtpState = SmtpState.Start;
        _context.Log.Write(tag, $"Delivering message: {SpoolIds.Format(message.Id)}");
        if (spool.ReadEnvelope(message.Id) is not { } bytes)
        {
            _states.TryRemove(message.Id, out _);
            return; // no longer stored (removed from the console): nothing to do
        }

        if (!Envelope.TryRead(bytes, out Envelope? envelope))
        {
            // Cannot happen for a record whose checksum held; keep the message for a human to look at.
            _context.Log.Write(tag, $"Message {SpoolIds.Format(message.Id)}: envelope does not decode; left in the spool");
            return;
        }

        DeliveryState state = _states.GetOrAdd(message.Id, _ => new DeliveryState(envelope!.Recipients.Count));
        DateTimeOffset now = _context.Time.GetUtcNow();
        var newlyFailed = new List<int>();
        var succeeded = new List<Success>();
        bool expired = now - envelope!.Received >= _context.Settings.QueueLifeTime;
        if (expired)
        {
            Expire(state, newlyFailed);
            _context.Log.Write(tag, $"Lifetime expired: {SpoolIds.Format(message.Id)}, {newlyFailed.Count} recipient(s) undelivered");
        }
        else
        {
            state.Attempts++;
            var attempt = new Attempt(session, message, envelope, state, newlyFailed, succeeded);
            await DeliverLocalAsync(attempt).ConfigureAwait(false);
            await DeliverRemoteAsync(attempt).ConfigureAwait(false);
        }

        if (newlyFailed.Count > 0)
        {
            await FailAsync(session, message, envelope, state, newlyFailed, expired).ConfigureAwait(false);
        }

        if (succeeded.Count > 0)
        {
            await Task.Yield(); // the report reads the original's headers from the spool: off the socket thread
            await ReportSuccessAsync(session, message, envelope, succeeded).ConfigureAwait(false);
        }

        if (state.PendingCount == 0)
        {
            Finish(session, message, envelope, state);
            return;
        }

        await DeferAsync(session, message, envelope, state).ConfigureAwait(false);
    }

    /// <summary>
    /// Notifies the sender of the recipients that failed now and marks them failed; when the
    /// notification cannot be stored they stay pending, so it is tried again.
    /// </summary>
    private async Task FailAsync(OutSession session, QueuedMessage message, Envelope envelope, DeliveryState state, List<int> newlyFailed, bool expired)
    {
        await Task.Yield(); // the notification reads the original from the spool: off the socket thread
        if (await NotifyAsync(session, message, envelope, state, newlyFailed, expired).ConfigureAwait(false))
        {
            foreach (int i in newlyFailed)
            {
                state.Status[i] = RecipientStatus.Failed;
            }
        }
    }

    /// <summary>QUEUE-LIFE-TIME is over: every pending recipient fails with 4.4.7 and its last error.</summary>
    private void Expire(DeliveryState state, List<int> newlyFailed)
    {
        for (int i = 0; i < state.Status.Length; i++)
        {
            if (state.Status[i] == RecipientStatus.Pending)
            {
                string last = state.LastReply[i] is { } reply ? $"; last error: {reply}" : string.Empty;
                state.LastReply[i] = $"4.4.7 message stayed queued longer than QUEUE-LIFE-TIME ({(long)_context.Settings.QueueLifeTime.TotalSeconds} s){last}";
                newlyFailed.Add(i);
            }
        }
    }

    /// <summary>
    /// Some recipients are still pending: sends the delay report when it is due, writes the retry
    /// record and puts the message into QUEUE-DEFER until the next attempt.
    /// </summary>
    private async Task DeferAsync(OutSession session, QueuedMessage message, Envelope envelope, DeliveryState state)
    {
        LogTag tag = LogTag.Channel(session.Channel.Number);
        DateTimeOffset now = _context.Time.GetUtcNow();
        TimeSpan delayNotifTime = _context.Settings.DelayNotifTime;
        bool delayDue = !state.DelayReported && delayNotifTime > TimeSpan.Zero;
        if (delayDue && now - envelope.Received >= delayNotifTime)
        {
            await Task.Yield();
            state.DelayReported = await ReportDelayAsync(session, message, envelope, state).ConfigureAwait(false);
            delayDue = !state.DelayReported;
        }

        DateTimeOffset due = now + RetrySchedule.Delay(_context.Settings.MailTryDelay, Math.Max(state.Attempts, 1));
        DateTimeOffset expiry = envelope.Received + _context.Settings.QueueLifeTime;
        if (due > expiry)
        {
            due = expiry;
        }

        // A recipient waiting for its delay report is tried again when the report is due, not at
        // the next retry after it (which may be an hour later).
        DateTimeOffset warning = envelope.Received + delayNotifTime;
        if (delayDue && warning > now && warning < due && AnyPendingWantsDelay(envelope, state))
        {
            due = warning;
        }

        state.NextAttemptUnixMs = due.ToUnixTimeMilliseconds();
        try
        {
            _context.Spool!.WriteRetry(message.Id, state.Encode());
        }
        catch (IOException e)
        {
            // Not fatal: after a restart the message is simply tried again at once.
            _context.Log.Write(tag, $"Retry record for {SpoolIds.Format(message.Id)} not written: {e.Message}");
        }

        _context.Queue.Defer(message, state.NextAttemptUnixMs);
        _context.Log.Write(tag, $"Deferred message: {SpoolIds.Format(message.Id)}, {state.PendingCount} recipient(s), retry at {due.ToLocalTime():HH:mm:ss}");
    }

    /// <summary>The message leaves the queue: OUT counters by what happened to its recipients, then Done in the spool.</summary>
    private void Finish(OutSession session, QueuedMessage message, Envelope envelope, DeliveryState state)
    {
        bool anyDelivered = false, anyFailed = false;
        bool localDelivered = false, localFailed = false, relayDelivered = false, relayFailed = false;
        for (int i = 0; i < state.Status.Length; i++)
        {
            bool delivered = state.Status[i] == RecipientStatus.Delivered;
            bool local = (envelope.Recipients[i].Flags & RecipientFlags.Local) != 0;
            anyDelivered |= delivered;
            anyFailed |= !delivered;
            if (local)
            {
                localDelivered |= delivered;
                localFailed |= !delivered;
            }
            else
            {
                relayDelivered |= delivered;
                relayFailed |= !delivered;
            }
        }

        var channel = session.Channel;
        if ((envelope.Flags & EnvelopeFlags.Notification) != 0)
        {
            _context.Count(channel, anyDelivered ? SmtpCounter.NotifySucc : SmtpCounter.NotifyFail, Direction.Out);
            _notifications.TryRemove(message.Id, out _);
        }
        else if ((envelope.Flags & EnvelopeFlags.Report) != 0)
        {
            // Success and delay reports stay out of the Abilis counters, which are failure notifications only.
            _context.Reports.CountDone(anyDelivered);
        }
        else
        {
            bool isInternal = (envelope.Flags & EnvelopeFlags.Internal) != 0;
            if (anyDelivered)
            {
                _context.Count(channel, isInternal ? SmtpCounter.IntSucc : SmtpCounter.ExtSucc, Direction.Out);
            }

            if (anyFailed)
            {
                _context.Count(channel, isInternal ? SmtpCounter.IntFail : SmtpCounter.ExtFail, Direction.Out);
            }
        }

        CountIf(localDelivered, SmtpCounter.LocalSucc);
        CountIf(localFailed, SmtpCounter.LocalFail);
        CountIf(relayDelivered, SmtpCounter.RelaySucc);
        CountIf(relayFailed, SmtpCounter.RelayFail);

        _context.Spool!.MarkDone(message.Id);
        _states.TryRemove(message.Id, out _);
        _mailboxes.Forget(message.Id);
        session.Channel.SmtpState = SmtpState.Ended;
        _context.Log.Write(LogTag.Channel(channel.Number),
            anyFailed ? $"Message {SpoolIds.Format(message.Id)} done, not delivered to every recipient" : $"Delivered message: {SpoolIds.Format(message.Id)}");

        void CountIf(bool condition, SmtpCounter counter)
        {
            if (condition)
            {
                _context.Count(channel, counter, Direction.Out);
            }
        }
    }

    private static bool AnyPendingWantsDelay(Envelope envelope, DeliveryState state)
    {
        for (int i = 0; i < state.Status.Length; i++)
        {
            if (state.Status[i] == RecipientStatus.Pending && WantsDelayReport(envelope.Recipients[i]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>What one attempt works on; results are written into <see cref="State"/>.</summary>
    private sealed record Attempt(OutSession Session, QueuedMessage Message, Envelope Envelope, DeliveryState State, List<int> NewlyFailed, List<Success> Succeeded)
    {
        public LogTag Tag => LogTag.Channel(Session.Channel.Number);

        /// <summary>
        /// Delivered into a mailbox (<paramref name="report"/> Delivered), or handed to a next hop:
        /// Relayed when that hop does not offer DSN, null when it does (NOTIFY went on with the
        /// recipient, so the next hop reports, not this server).
        /// </summary>
        public void Delivered(int index, string detail, ReportAction? report = ReportAction.Delivered, string? host = null)
        {
            State.Status[index] = RecipientStatus.Delivered;
            State.LastReply[index] = detail;
            if (report is { } action)
            {
                Succeeded.Add(new Success(index, action, detail, host));
            }
        }

        public void Deferred(int index, string reason) => State.LastReply[index] = reason;

        public void Failed(int index, string reason)
        {
            State.LastReply[index] = reason;
            NewlyFailed.Add(index);
        }
    }

    /// <summary>
    /// Recipients with a mailbox here: one copy per mailbox folder, however many recipients of the
    /// message name it (two spellings, an alias and its user, bob and bob+tag), as Postfix delivers
    /// one copy per final mailbox; every recipient of the folder gets the same outcome. A folder
    /// that an earlier attempt already delivered to is not written again.
    /// </summary>
    private Task DeliverLocalAsync(Attempt attempt)
    {
        Envelope envelope = attempt.Envelope;
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var deliveredBefore = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (int i = 0; i < envelope.Recipients.Count; i++)
        {
            EnvelopeRecipient recipient = envelope.Recipients[i];
            RecipientStatus status = attempt.State.Status[i];
            if (status == RecipientStatus.Failed || !HasMailboxHere(recipient))
            {
                continue;
            }

            string folder = FolderOf(recipient);
            if (status == RecipientStatus.Delivered)
            {
                deliveredBefore.TryAdd(folder, attempt.State.LastReply[i]);
                continue;
            }

            if (!groups.TryGetValue(folder, out List<int>? group))
            {
                groups[folder] = group = [];
            }

            group.Add(i);
        }

        foreach ((string folder, List<int> group) in groups)
        {
            if (deliveredBefore.TryGetValue(folder, out string? before))
            {
                foreach (int i in group)
                {
                    attempt.Delivered(i, before ?? $"250 2.0.0 delivered to mailbox {folder}");
                }

                continue;
            }

            DeliverToFolder(attempt, folder, group);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// One copy into <paramref name="folder"/> for every recipient in <paramref name="group"/>; the
    /// delivery key is the first one's (the groups come out the same after a restart, so a copy
    /// written before a crash is found, not written again).
    /// </summary>
    private void DeliverToFolder(Attempt attempt, string folder, List<int> group)
    {
        Envelope envelope = attempt.Envelope;
        EnvelopeRecipient first = envelope.Recipients[group[0]];
        string originalTo = OriginalAddress(first) is { } original && !original.Equals(first.Address, StringComparison.Ordinal)
            ? $"X-Original-To: {original}\r\n"
            : string.Empty;
        byte[] prefix = Encoding.UTF8.GetBytes($"Return-Path: <{envelope.Sender}>\r\n{originalTo}Delivered-To: {first.Address}\r\n");
        var key = new MaildirKey(attempt.Message.Id, envelope.Received.ToUnixTimeMilliseconds(), group[0], first.Address);
        MaildirDelivery result;
        using (Stream body = _context.Spool!.OpenBody(attempt.Message.Id))
        {
            result = _mailboxes.Deliver(folder, prefix, body, body.Length, key);
        }

        // Never a bounce: a full mailbox, disk or quota and any other write error are retried later.
        string? deferred = result.Delivered ? null
            : result.Room != MailboxRoom.Ok ? $"452 4.2.2 mailbox {folder} is full ({(result.Room == MailboxRoom.FullBySize ? "MB-MAXSIZE" : "MB-MAXMAILS")})"
            : result.Failure switch
            {
                MaildirFailure.NoSpace => $"452 4.3.1 no space left on the device of the mailboxes: {result.Error}",
                MaildirFailure.Quota => $"452 4.2.2 disk quota of mailbox {folder} exceeded: {result.Error}",
                _ => $"451 4.3.0 mailbox write failed: {result.Error}",
            };
        foreach (int i in group)
        {
            if (deferred is null)
            {
                attempt.Delivered(i, $"250 2.0.0 delivered to mailbox {folder}");
            }
            else
            {
                attempt.Deferred(i, deferred);
            }
        }

        // One line per copy, as before grouping; a copy for several recipients says so at the end.
        string also = group.Count > 1 ? $" (one copy in mailbox {folder} for {group.Count} recipients)" : string.Empty;
        if (result.Room != MailboxRoom.Ok)
        {
            _context.Log.Write(attempt.Tag, $"Local delivery: {first.Address} deferred, mailbox full{also}");
            return;
        }

        if (deferred is not null)
        {
            _context.Log.Write(attempt.Tag, $"Local delivery: {first.Address} deferred: {deferred}{also}");
            return;
        }

        _context.Metrics.ObserveDelivery(_context.Time.GetUtcNow() - envelope.Received);
        _context.Log.Write(attempt.Tag, result.AlreadyThere
            ? $"Local delivery: {first.Address} ok, already in mailbox {folder} as {result.FileName} (delivered before a restart){also}"
            : $"Local delivery: {first.Address} ok{also}");
    }

    /// <summary>
    /// The mailbox folder of a recipient with a mailbox here: the local part as stored at RCPT
    /// (Mailbox flag); for an envelope stored without it (an older version, or a local recipient
    /// with STORE-MB:YES given since), the name as RCPT would resolve it now.
    /// </summary>
    private string FolderOf(EnvelopeRecipient recipient)
    {
        string localPart = LocalPart(recipient.Address);
        if ((recipient.Flags & RecipientFlags.Mailbox) != 0)
        {
            return localPart;
        }

        SmtpSettings settings = _context.Settings;
        Span<char> canonical = localPart.Length <= 256 ? stackalloc char[256] : new char[localPart.Length];
        ReadOnlySpan<char> name = canonical[..MailboxFolder.Canonicalize(Encoding.UTF8.GetBytes(localPart), canonical)];
        string domain = DomainOf(recipient.Address);
        int index = domain.Length == 0 ? -1 : settings.LocalDomainIndex(Encoding.UTF8.GetBytes(domain));
        RecipientTarget[]? targets = _context.Recipients?.For(settings).Find(name, index < 0 ? null : settings.LocalDomainAscii(index), settings.RecipientDelimiter);
        return targets?.FirstOrDefault(t => t.IsMailbox)?.Value
            ?? MailboxFolder.For(MailboxFolder.WithoutExtension(name, settings.RecipientDelimiter));
    }

    /// <summary>The address the client wrote, from an rfc822 ORCPT (xtext decoded), or null.</summary>
    private static string? OriginalAddress(EnvelopeRecipient recipient)
    {
        string? orcpt = recipient.OriginalRecipient;
        if (orcpt is null || !orcpt.StartsWith("rfc822;", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var text = new StringBuilder();
        string xtext = orcpt["rfc822;".Length..];
        for (int i = 0; i < xtext.Length; i++)
        {
            if (xtext[i] == '+' && i + 2 < xtext.Length
                && byte.TryParse(xtext.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out byte b))
            {
                text.Append((char)b);
                i += 2;
            }
            else
            {
                text.Append(xtext[i]);
            }
        }

        string address = text.ToString();
        return address.Any(char.IsControl) ? null : address;
    }

    /// <summary>
    /// A recipient resolved to a mailbox here at RCPT; or, for an envelope stored without that
    /// flag, a local recipient with STORE-MB:YES or the bare &lt;postmaster&gt;, which always has a
    /// mailbox here (with STORE-MB:NO other local recipients go to SERVER, see DeliverRemoteAsync).
    /// </summary>
    private bool HasMailboxHere(EnvelopeRecipient recipient) =>
        (recipient.Flags & RecipientFlags.Mailbox) != 0
        || ((recipient.Flags & RecipientFlags.Local) != 0 && (_context.Settings.StoreMb || IsBarePostmaster(recipient.Address)));

    private static bool IsBarePostmaster(string address) => address.Equals("postmaster", StringComparison.OrdinalIgnoreCase);

    /// <summary>The local part of an address (postmaster has no domain).</summary>
    internal static string LocalPart(string address)
    {
        int at = address.LastIndexOf('@');
        return at < 0 ? address : address[..at];
    }

    /// <summary>The domain of an address, lower case; empty for postmaster.</summary>
    internal static string DomainOf(string address)
    {
        int at = address.LastIndexOf('@');
        return at < 0 ? string.Empty : address[(at + 1)..].ToLowerInvariant();
    }
}
