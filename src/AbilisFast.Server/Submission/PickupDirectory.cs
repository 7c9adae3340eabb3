using System.Globalization;
using System.Text;
using AbilisFast.Server.Runtime;

namespace AbilisFast.Server.Submission;

/// <summary>What a pickup file carries besides the message: the envelope and who submitted it.</summary>
/// <param name="Sender"><c>&lt;&gt;</c> = the null reverse path; empty = the submitting user (<c>LOGIN@HELOHOST</c>), else postmaster@HELOHOST.</param>
/// <param name="Login">The login name of the user who ran sendmail, or null.</param>
/// <param name="FullName">sendmail -F (or $NAME), for a From: field the message lacks; or null.</param>
internal sealed record PickupFile(string Sender, IReadOnlyList<string> Recipients, string? Login = null, string? FullName = null);

/// <summary>
/// WDIR/pickup: how local programs hand mail to the server without SMTP (<c>abilisfast sendmail</c>).
/// A file is written whole under a unique name in pickup/tmp, fsynced and renamed into pickup/new;
/// the server takes it from there (at start and then every second), completes its header (Date,
/// Message-ID, From when missing, as Postfix's cleanup does), stores it in the spool as internal
/// mail and only then deletes the file. A crash between the two may submit a file twice, never lose
/// one. A file that cannot be read as a pickup file is moved to pickup/bad and logged.
/// File format: the line <c>ABILISFAST-PICKUP 1</c>, a line <c>F sender</c> (<c>&lt;&gt;</c> = the null
/// reverse path; empty = the submitting user or postmaster@HELOHOST), optional lines <c>U login</c>
/// and <c>N full name</c>, one line <c>R recipient</c> per recipient, an empty line, then the message.
/// Files are made mode 0640 whatever the umask, so that a server in the folder's group can read
/// files other users wrote (docs/sendmail.md, "Who may submit").
/// </summary>
internal static class PickupDirectory
{
    public const string Magic = "ABILISFAST-PICKUP 1";
    private const UnixFileMode PickupFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
    private static long _counter;

    public static string PathIn(string workDir) => Path.Combine(workDir, "pickup");

    /// <summary>Writes a pickup file (the sendmail side); returns its final path.</summary>
    public static string Write(string workDir, string sender, IReadOnlyList<string> recipients, ReadOnlySpan<byte> message) =>
        Write(workDir, new PickupFile(sender, recipients), message);

    /// <summary>Writes a pickup file (the sendmail side); returns its final path.</summary>
    public static string Write(string workDir, PickupFile pickup, ReadOnlySpan<byte> message)
    {
        string root = PathIn(workDir);
        string tmp = Path.Combine(root, "tmp");
        string @new = Path.Combine(root, "new");
        Directory.CreateDirectory(tmp);
        Directory.CreateDirectory(@new);
        string name = string.Create(CultureInfo.InvariantCulture,
            $"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds():D13}.{Environment.ProcessId}.{Interlocked.Increment(ref _counter)}.{Guid.NewGuid():N}");
        string tmpPath = Path.Combine(tmp, name);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = PickupFileMode;
            }

            using (var file = new FileStream(tmpPath, options))
            {
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(file.SafeFileHandle, PickupFileMode); // the umask may have taken the group's read
                }

                file.Write(Encoding.UTF8.GetBytes(Header(pickup)));
                file.Write(message);
                file.Flush(flushToDisk: true);
            }

            string finalPath = Path.Combine(@new, name);
            File.Move(tmpPath, finalPath);
            SyncDirectory(@new);
            return finalPath;
        }
        catch
        {
            File.Delete(tmpPath);
            throw;
        }
    }

    private static string Header(PickupFile pickup)
    {
        var header = new StringBuilder();
        header.Append(Magic).Append('\n').Append("F ").Append(pickup.Sender).Append('\n');
        if (pickup.Login is { Length: > 0 } login)
        {
            header.Append("U ").Append(login).Append('\n');
        }

        if (pickup.FullName is { Length: > 0 } fullName)
        {
            header.Append("N ").Append(fullName.ReplaceLineEndings(" ")).Append('\n');
        }

        foreach (string recipient in pickup.Recipients)
        {
            header.Append("R ").Append(recipient).Append('\n');
        }

        return header.Append('\n').ToString();
    }

    /// <summary>
    /// Makes the rename durable where it can: a user who may write in pickup/new but not read it (the
    /// group's mode is -wx) cannot open the folder to fsync it, and the file itself is already synced.
    /// </summary>
    private static void SyncDirectory(string directory)
    {
        try
        {
            Spool.SpoolNative.FSyncDirectory(directory);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Stands for "the submitting user, or postmaster@HELOHOST" until the server fills it in.</summary>
    private const string DefaultSender = "\0";

    /// <summary>Reads a pickup file; false when it is not one. An empty sender in the result is the null sender; <see cref="DefaultSender"/> means none was given.</summary>
    public static bool TryParse(byte[] file, out PickupFile? pickup, out ReadOnlyMemory<byte> message)
    {
        pickup = null;
        message = default;
        int position = 0;
        if (!NextLine(file, ref position, out string? magic) || magic != Magic
            || !NextLine(file, ref position, out string? from) || !from.StartsWith("F ", StringComparison.Ordinal))
        {
            return false;
        }

        string sender = from[2..] == "<>" ? string.Empty : from.Length == 2 ? DefaultSender : from[2..];
        string? login = null;
        string? fullName = null;
        var recipients = new List<string>();
        while (NextLine(file, ref position, out string? line))
        {
            if (line.Length == 0)
            {
                message = file.AsMemory(position);
                pickup = new PickupFile(sender, recipients, login, fullName);
                return recipients.Count > 0;
            }

            switch (line.Length > 2 ? line[..2] : line)
            {
                case "R ":
                    recipients.Add(line[2..]);
                    break;
                case "U ":
                    login = line[2..];
                    break;
                case "N ":
                    fullName = line[2..];
                    break;
                default:
                    return false;
            }
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

            if (!TryParse(content, out PickupFile? pickup, out ReadOnlyMemory<byte> text))
            {
                MoveToBad(context, path, "not a pickup file");
                continue;
            }

            string origin = Origin(context.Settings);
            string sender = SenderOf(pickup!, origin, context.Settings.HeloHost);
            IReadOnlyList<string> recipients = [.. pickup!.Recipients.Select(r => Qualify(r, origin))];
            ReadOnlyMemory<byte> message = Complete(text.Span, sender, pickup.FullName, context.Settings.HeloHost, context.Time.GetUtcNow());

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

    /// <summary>
    /// The domain that completes a bare name (<c>root</c>, as cron and mail(1) give it), as Postfix's
    /// myorigin does: the first LOCAL-DOMAIN without a wildcard, so that such mail stays local, else HELOHOST.
    /// </summary>
    internal static string Origin(SmtpSettings settings) =>
        settings.LocalDomains.FirstOrDefault(d => !d.Contains('*', StringComparison.Ordinal) && d.Length > 0) ?? settings.HeloHost;

    /// <summary><c>name</c> is <c>name@ORIGIN</c>; an address with a domain stays as it is.</summary>
    internal static string Qualify(string address, string origin) =>
        address.Contains('@', StringComparison.Ordinal) ? address : address + "@" + origin;

    /// <summary>The envelope sender: as given (a bare name completed), else the submitting user at ORIGIN, else postmaster@HELOHOST.</summary>
    internal static string SenderOf(PickupFile pickup, string origin, string heloHost)
    {
        if (pickup.Sender != DefaultSender)
        {
            return pickup.Sender.Length == 0 ? string.Empty : Qualify(pickup.Sender, origin);
        }

        string user = pickup.Login + "@" + origin;
        return pickup.Login is { Length: > 0 } && AddressSyntax.Check(user, sender: true) is null ? user : "postmaster@" + heloHost;
    }

    /// <summary>
    /// Adds what the header section lacks, as Postfix's cleanup does for locally submitted mail:
    /// <c>From:</c> (the sender, with the -F full name when given; not for the null sender),
    /// <c>Date:</c> (now) and <c>Message-ID:</c> (unique, at HELOHOST), at the end of the header section.
    /// </summary>
    internal static byte[] Complete(ReadOnlySpan<byte> message, string sender, string? fullName, string heloHost, DateTimeOffset now)
    {
        List<HeaderField> fields = MessageHeaders.Fields(message);
        var added = new List<string>();
        if (!MessageHeaders.Has(fields, "From") && sender.Length > 0)
        {
            added.Add(fullName is { Length: > 0 } name ? $"From: {DisplayName(name)} <{sender}>" : $"From: {sender}");
        }

        if (!MessageHeaders.Has(fields, "Date"))
        {
            added.Add("Date: " + now.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture));
        }

        if (!MessageHeaders.Has(fields, "Message-ID"))
        {
            added.Add(string.Create(CultureInfo.InvariantCulture, $"Message-ID: <{now.UtcDateTime:yyyyMMddHHmmss}.{Guid.NewGuid():N}@{heloHost}>"));
        }

        return MessageHeaders.Append(message, added);
    }

    /// <summary>A display name as a phrase: plain words as they are, other ASCII as a quoted string, anything else as an RFC 2047 encoded word.</summary>
    private static string DisplayName(string name)
    {
        if (!Ascii.IsValid(name))
        {
            return "=?UTF-8?B?" + Convert.ToBase64String(Encoding.UTF8.GetBytes(name)) + "?=";
        }

        bool plain = name.All(c => char.IsLetterOrDigit(c) || c == ' ' || "!#$%&'*+-/=?^_`{|}~".Contains(c, StringComparison.Ordinal));
        return plain ? name : "\"" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
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
