namespace AbilisFast.Server.Tests.Support;

internal sealed record StoredMessage(uint Id, Envelope Envelope, string Body);

/// <summary>Reads what a spool directory holds, the way a restart would recover it.</summary>
internal static class StoredMessages
{
    /// <summary>Recovers a copy of <paramref name="spoolDir"/>, so a spool still in use is left alone.</summary>
    public static List<StoredMessage> Read(string spoolDir)
    {
        string copy = Path.Combine(Path.GetTempPath(), "abilisfast-copy-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(copy);
        try
        {
            foreach (string file in Directory.GetFiles(spoolDir))
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }

            using SpoolStore spool = SpoolStore.Open(copy, new SpoolOptions { Fsync = false }, out IReadOnlyList<RecoveredMessage> recovered);
            var messages = new List<StoredMessage>();
            foreach (RecoveredMessage m in recovered)
            {
                Assert.True(Envelope.TryRead(m.Envelope, out Envelope? envelope), "envelope decodes");
                using Stream body = spool.OpenBody(m.Id);
                using var memory = new MemoryStream();
                body.CopyTo(memory);
                messages.Add(new StoredMessage(m.Id, envelope!, Encoding.UTF8.GetString(memory.ToArray())));
            }

            return messages;
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }
}
