using System.Globalization;
using System.Text;
using AbilisFast.Server.Diagnostics;
using AbilisFast.Server.Runtime;

namespace AbilisFast.Server.Submission;

/// <summary>
/// WDIR/pickup: how local programs hand mail to the server without SMTP (<c>abilisfast sendmail</c>).
/// A file is written whole in pickup/tmp, fsynced and renamed into pickup/new; the server takes it
/// from there (at start and then every second), stores it in the spool as internal mail and only then
/// deletes the file. A crash between the two may submit a file twice, never lose one. A file that
/// cannot be read as a pickup file is moved to pickup/bad and logged.
/// File format: the line <c>ABILISFAST-PICKUP 1</c>, a line <c>F sender</c> (<c>&lt;&gt;</c> = the null
/// reverse path; empty = postmaster@HELOHOST),
/// one line <c>R recipient</c> per recipient, an empty line, then the message.
/// </summary>
internal static class PickupDirectory
{
    public const string Magic = "ABILISFAST-PICKUP 1";
    private static long _counter;

    public static string PathIn(string workDir) => Path.Combine(workDir, "pickup");

    /// <summary>Writes a pickup file (the sendmail side); returns its final path.</summary>
    public static string Write(string workDir, string sender, IReadOnlyList<string> recipients, ReadOnlySpan<byte> message)
    {
        string root = PathIn(workDir);
        string tmp = Path.Combine(root, "tmp");
        string @new = Path.Combine(root, "new");
        Directory.CreateDirectory(tmp);
        Directory.CreateDirectory(@new);
        string name = string.Create(CultureInfo.InvariantCulture,
            $"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds():D13}.{Environment.ProcessId}.{Interlocked.Increment(ref _counter)}.{Guid.NewGuid():N}");
        string tmpPath = Path.Combine(tmp, name);
        var header = new StringBuilder();
        header.Append(Magic).Append('\n').Append("F ").Append(sender).Append('\n');
        foreach (string recipient in recipients)
        {
            header.Append("R ").Append(recipient).Append('\n');
        }

        header.Append('\n');
        try
        {
            using (var file = new FileStream(tmpPath, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                file.Write(Encoding.UTF8.GetBytes(header.ToString()));
                file.Write(message);
                file.Flush(flushToDisk: true);
            }

            string finalPath = Path.Combine(@new, name);
            File.Move(tmpPath, finalPath);
            return finalPath;
        }
        catch
        {
            File.Delete(tmpPath);
            throw;
        }
    }

    /// <summary>Reads a pickup file; false when it is not one.</summary>
    /// <summary>Stands for postmaster@HELOHOST until the server fills it in.</summary>
    private const string DefaultSender = "\0";

    public static bool TryParse(byte[] file, out string sender, out List<string> recipients, out ReadOnlyMemory<byte> message)
    {
        sender = string.Empty;
        recipients = [];
        message = default;
        int position = 0;
        if (!NextLine(file, ref position, out string? magic) || magic != Magic
            || !NextLine(file, ref position, out string? from) || !from.StartsWith("F ", StringComparison.Ordinal))
        {
            return false;
        }

        sender = from[2..] == "<>" ? string.Empty : from.Length == 2 ? DefaultSender : from[2..];
        while (NextLine(file, ref position, out string? line))
        {
            if (line.Length == 0)
            {
                message = file.AsMemory(position);
                return recipients.Count > 0;
            }

            if (!line.StartsWith("R ", StringComparison.Ordinal))
            {
                return false;
            }

            recipients.Add(line[2..]);
        }

        return false;
    }

    private static bool NextLine(byte[] file, ref int position, out string line)
    {
        line = string.Empty;
        int end = Array.IndexOf(file, (byte)'\n', position);
        if (end < 0 || end - position > 2048)
        {
            return false;
        }

        line = Encoding.UTF8.GetString(file, position, end - position);
        position = end + 1;
        return true;
    }

    /// <summary>
    /// Submits every file waiting in pickup/new, oldest first; returns how many were queued. A file
    /// refused as a mail loop (over HOP-LIMIT) is passed to <paramref name="onLoop"/> (the delivery
    /// engine sends its sender a failure notification) before it moves to pickup/bad.
    /// </summary>
    public static async Task<int> ScanAsync(SmtpContext context, CancellationToken cancellationToken,
        Func<string, IReadOnlyList<string>, ReadOnlyMemory<byte>, string, Task>? onLoop = null)
    {
        string @new = Path.Combine(PathIn(context.Settings.WorkDir), "new");
        if (!Directory.Exists(@new))
        {
            return 0;
        }

        string[] files = Directory.GetFiles(@new);
        Array.Sort(files, StringComparer.Ordinal);
        int queued = 0;
        foreach (string path in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            byte[] content;
            try
            {
                content = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                continue; // being written or removed: next scan
            }

            if (!TryParse(content, out string sender, out List<string> recipients, out ReadOnlyMemory<byte> message))
            {
                MoveToBad(context, path, "not a pickup file");
                continue;
            }

            if (sender == DefaultSender)
            {
                sender = "postmaster@" + context.Settings.HeloHost;
            }

            try
            {
                uint id = await InternalMail.SubmitAsync(context, sender, recipients, message, InternalKind.Internal, cancellationToken).ConfigureAwait(false);
                File.Delete(path);
                context.Log.Write(LogTag.Port, $"Picked up {Path.GetFileName(path)} as {id:X8}");
                queued++;
            }
            catch (InternalMailException e) when (e.Message.StartsWith("the spool", StringComparison.Ordinal))
            {
                // Storage trouble: leave the file for the next scan.
                context.Log.Write(LogTag.Port, $"Pickup {Path.GetFileName(path)} waits: {e.Message}");
                break;
            }
            catch (InternalMailException e) when (e.TooManyHops && onLoop is not null)
            {
                await onLoop(sender, recipients, message, e.Message).ConfigureAwait(false);
                MoveToBad(context, path, e.Message);
            }
            catch (InternalMailException e)
            {
                MoveToBad(context, path, e.Message);
            }
        }

        return queued;
    }

    private static void MoveToBad(SmtpContext context, string path, string reason)
    {
        string bad = Path.Combine(PathIn(context.Settings.WorkDir), "bad");
        try
        {
            Directory.CreateDirectory(bad);
            File.Move(path, Path.Combine(bad, Path.GetFileName(path)), overwrite: true);
        }
        catch (IOException)
        {
        }

        context.Log.Write(LogTag.Port, $"Pickup {Path.GetFileName(path)} refused: {reason}");
    }
}
