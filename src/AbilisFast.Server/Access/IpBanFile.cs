using System.Globalization;
using System.Net;
using System.Text;

namespace AbilisFast.Server.Access;

/// <summary>
/// The ban list on disk, <c>WDIR/ipban</c>: one ban a line,
/// <c>ADDRESS UNTIL-UNIX-SECONDS SINCE-UNIX-SECONDS FAILURES</c>. Written atomically (temp file,
/// flushed to disk, renamed) with mode 0600; read skipping expired and malformed lines.
/// </summary>
internal static class IpBanFile
{
    public const string FileName = "ipban";
    public const string RestoredReason = "restored";

    public static List<BanEntry> Load(string path, DateTimeOffset now, Action<string>? log)
    {
        var entries = new List<BanEntry>();
        if (!File.Exists(path))
        {
            return entries;
        }

        string[] lines;
        try
        {
            lines = File.ReadAllLines(path, Encoding.ASCII);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log?.Invoke($"ipban: cannot read {path}: {e.Message}");
            return entries;
        }

        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (!TryParseLine(line, out BanEntry? entry))
            {
                log?.Invoke($"ipban: {path} line {(i + 1).ToString(CultureInfo.InvariantCulture)} is malformed, skipped");
                continue;
            }

            if (entry.Until > now)
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    public static void Save(string path, IEnumerable<BanEntry> entries)
    {
        var text = new StringBuilder();
        foreach (BanEntry e in entries)
        {
            text.Append(e.Address.ToString()).Append(' ')
                .Append(e.Until.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(e.Since.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(e.Failures.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        // 0600 whatever the umask: the list of banned addresses is nobody else's business.
        PrivateFileWriter.WriteAtomically(path, Encoding.ASCII.GetBytes(text.ToString()));
    }

    private static bool TryParseLine(string line, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BanEntry? entry)
    {
        entry = null;
        string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 4
            || !IPAddress.TryParse(parts[0], out IPAddress? address)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long until)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long since)
            || !int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out int failures)
            || until > DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            || since > until)
        {
            return false;
        }

        entry = new BanEntry(
            IpBanService.Normalize(address),
            DateTimeOffset.FromUnixTimeSeconds(since),
            DateTimeOffset.FromUnixTimeSeconds(until),
            failures,
            RestoredReason);
        return true;
    }
}
