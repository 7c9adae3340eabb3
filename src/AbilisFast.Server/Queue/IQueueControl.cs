namespace AbilisFast.Server.Queue;

/// <summary>Where a queued message is, as the console shows it.</summary>
internal enum QueueEntryState
{
    /// <summary>In QUEUE-OUT, waiting for an OUT session.</summary>
    Out,
    /// <summary>In QUEUE-DEFER until its next try.</summary>
    Defer,
    /// <summary>On hold from the console: not delivered until released.</summary>
    Hold,
    /// <summary>Being delivered by an OUT session now.</summary>
    Active,
}

/// <summary>One queued message with its delivery progress (per recipient, in envelope order).</summary>
internal sealed record QueueEntry(
    QueuedMessage Message,
    QueueEntryState State,
    long? NextTryUnixMs,
    int Attempts,
    IReadOnlyList<string?> LastReplies);

/// <summary>
/// Queue control from the console (what Postfix's postqueue and postsuper give): list, retry now,
/// delete, hold and release. <paramref name="id"/> null means every message the action applies to.
/// Each action returns how many messages it changed, or throws <see cref="QueueControlException"/>
/// with a one-line reason.
/// </summary>
internal interface IQueueControl
{
    IReadOnlyList<QueueEntry> List();

    int Retry(uint? id);

    int Delete(uint? id);

    int Hold(uint? id);

    int Release(uint? id);
}

/// <summary>A queue action that cannot be done, with the reason for the console.</summary>
internal sealed class QueueControlException(string message) : Exception(message);
