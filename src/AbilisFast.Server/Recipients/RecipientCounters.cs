namespace AbilisFast.Server.Recipients;

/// <summary>
/// Recipients refused at RCPT because no local mailbox has their name (<c>550 5.1.1</c>), since the
/// start; shown by <c>d m smtp</c> (the Abilis <c>d s smtp</c> table has no row for it).
/// </summary>
internal sealed class RecipientCounters
{
    private long _unknownLocal;

    public long UnknownLocal => Volatile.Read(ref _unknownLocal);

    public void CountUnknownLocal() => Interlocked.Increment(ref _unknownLocal);
}
