using AbilisFast.Server.Tests.Delivery;

namespace AbilisFast.Server.Tests.Recipients;

/// <summary>
/// Messages queued by a version that accepted every local name stored each local recipient as the
/// client wrote it, with the Local flag only (no Mailbox flag, no resolution at RCPT). After an
/// upgrade they are delivered as the name resolves now: users (any spelling, with an extension),
/// role names to the first admin, and names that are no user into a folder of their own, since
/// they were accepted; one copy per mailbox.
/// </summary>
public sealed class UpgradeTests : IDisposable
{
    private readonly TestServerContext _server = TestServerContext.WithRecipients(
        workDir =>
        {
            UserStore users = UserStore.Load(workDir);
            users.Set("bob", UserRights.Mail, "pw");
            users.Set("boss", UserRights.Admin, "pw");
        },
        "LOCAL-DOMAIN:local.test", "STORE-MB:YES");

    public void Dispose() => _server.Dispose();

    /// <summary>Writes a message into the spool with an envelope of the older form and queues it.</summary>
    private async Task QueueAsOlderVersionsDidAsync(string[] recipients, string body)
    {
        var spool = _server.Spool;
        uint id = spool.NextId();
        byte[] bytes = Encoding.ASCII.GetBytes(body);
        using var envelope = new EnvelopeBuilder();
        envelope.Begin(EnvelopeFlags.None, DateTimeOffset.UtcNow, System.Net.IPAddress.Loopback, "client.test"u8, "alice@client.test"u8, bytes.Length);
        foreach (string recipient in recipients)
        {
            envelope.AddRecipient(Encoding.UTF8.GetBytes(recipient), RecipientFlags.Local);
        }

        long length;
        using (SpoolWriter writer = spool.BeginMessage(id))
        {
            writer.Write(bytes);
            await writer.CommitAsync(envelope.Written.Span, CancellationToken.None);
            length = writer.Length;
        }

        _server.Context.Queue.Enqueue(new QueuedMessage(id, length, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
    }

    [Fact]
    public async Task AMessageQueuedBeforeTheUpgradeIsDeliveredAsItsNamesResolveNow()
    {
        await QueueAsOlderVersionsDidAsync(["Bob@Local.TEST", "bob+news@local.test", "Postmaster@local.test", "Ghost@local.test"], "Subject: queued before\r\n\r\nold\r\n");
        // Local delivery only: no name resolves.
        await using var engine = new DeliveryEngine(_server.Context, new ScriptedRoutes(), _server.Mailboxes);
        engine.Start();

        string bob = Assert.Single(await Eventually.WaitAsync(() => _server.Mailbox("bob") is { Length: 1 } m ? m : null, "bob's copy", TimeSpan.FromSeconds(20)));
        string boss = Assert.Single(await Eventually.WaitAsync(() => _server.Mailbox("boss") is { Length: 1 } m ? m : null, "the postmaster's copy in the first admin's mailbox", TimeSpan.FromSeconds(20)));
        string ghost = Assert.Single(await Eventually.WaitAsync(() => _server.Mailbox("ghost") is { Length: 1 } m ? m : null, "ghost's folder of its own", TimeSpan.FromSeconds(20)));
        await Eventually.WaitAsync(() => _server.Spool.LiveMessages == 0, "the message to leave the spool", TimeSpan.FromSeconds(20));
        Assert.All([bob, boss, ghost], m => Assert.EndsWith("Subject: queued before\n\nold\n", m, StringComparison.Ordinal));
        Assert.StartsWith("Return-Path: <alice@client.test>\nDelivered-To: Bob@Local.TEST\n", bob, StringComparison.Ordinal);

        // One copy per mailbox (the two spellings of bob share one), and no other folder.
        Assert.Single(_server.Mailbox("bob"));
        Assert.Equal(["bob", "boss", "ghost"], Directory.GetDirectories(_server.MailboxDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
