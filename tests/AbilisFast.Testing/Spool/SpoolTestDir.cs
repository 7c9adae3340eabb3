namespace AbilisFast.Server.Tests.Spool;

/// <summary>A temporary spool directory, deleted on dispose.</summary>
internal sealed class SpoolTestDir : IDisposable
{
    public SpoolTestDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "afspool-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public List<string> LogLines { get; } = [];

    public SpoolOptions Options(long segmentSize = 64 * 1024, int fragmentSize = 16 * 1024, bool fsync = true) => new()
    {
        SegmentSize = segmentSize,
        FragmentSize = fragmentSize,
        Fsync = fsync,
        MinFreeBytes = 0,
        Log = line =>
        {
            lock (LogLines)
            {
                LogLines.Add(line);
            }
        },
    };

    public string[] SegmentFiles() => [.. Directory.GetFiles(Path, "seg-*.jnl").Order(StringComparer.Ordinal)];

    public string CorruptDir => System.IO.Path.Combine(Path, "corrupt");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class SpoolTestData
{
    /// <summary>A copy of the spool folder's files in a new temporary folder: what a second server started on the same disk would find.</summary>
    public static string CopyOf(string spoolDir)
    {
        string copy = Path.Combine(Path.GetTempPath(), "abilisfast-restart-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.GetFiles(spoolDir))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        return copy;
    }

    public static byte[] Body(uint id, int length)
    {
        var bytes = new byte[length];
        new Random((int)id).NextBytes(bytes);
        return bytes;
    }

    public static byte[] Envelope(uint id) => System.Text.Encoding.ASCII.GetBytes($"MAIL FROM:<a{id}@x>\nRCPT TO:<b@y>\n");

    public static async Task<uint> StoreAsync(AbilisFast.Server.Spool.SpoolStore spool, byte[] body, byte[]? envelope = null, int chunk = 4096)
    {
        uint id = spool.NextId();
        using SpoolWriter writer = spool.BeginMessage(id);
        for (int i = 0; i < body.Length; i += chunk)
        {
            writer.Write(body.AsSpan(i, Math.Min(chunk, body.Length - i)));
        }

        Assert.Equal(body.Length, writer.Length);
        await writer.CommitAsync(envelope ?? Envelope(id));
        return id;
    }

    public static byte[] ReadBody(AbilisFast.Server.Spool.SpoolStore spool, uint id)
    {
        using Stream stream = spool.OpenBody(id);
        using var copy = new MemoryStream();
        stream.CopyTo(copy, 3000);
        Assert.Equal(stream.Length, copy.Length);
        return copy.ToArray();
    }
}
