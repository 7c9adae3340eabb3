using System.Buffers;

namespace AbilisFast.Server.Mailboxes;

internal sealed partial class MaildirStore
{
    private const int CopyBufferSize = 64 * 1024;

    /// <summary>Mode of every message file: mail is private.</summary>
    internal const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Mode of the mailboxes folder, each mailbox and its tmp/, new/ and cur/.</summary>
    internal const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Writes into the mailbox folder <paramref name="folder"/> (a name from
    /// <see cref="Recipients.MailboxFolder"/>; anything else is refused) <paramref name="prefix"/> followed by exactly <paramref name="length"/> bytes of
    /// <paramref name="body"/> as one message, CRLF line ends stored as LF: tmp/&lt;base&gt;, room
    /// check with the stored size, fsync, rename into new/&lt;base&gt;,S=..,W=.., fsync of new/.
    /// A mailbox too full even for the smallest size the message could take is refused before
    /// anything is written. I/O errors (including a body shorter than <paramref name="length"/>)
    /// come back in <see cref="MaildirDelivery.Error"/> with their <see cref="MaildirFailure"/> and
    /// leave nothing behind, neither in tmp/ nor in new/.
    /// </summary>
    /// <param name="key">
    /// What this delivery is (message and recipient), carried in the file name. When the message
    /// was recovered from the spool at start (<see cref="ExpectRedelivery"/>), a file with that key
    /// already in new/ or cur/ means the delivery was done before a crash: it is not written again
    /// and the result says <see cref="MaildirDelivery.AlreadyThere"/>.
    /// </param>
    public MaildirDelivery Deliver(string folder, ReadOnlySpan<byte> prefix, Stream body, long length, MaildirKey? key = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (Unusable(folder, length) is { } unusable)
        {
            return unusable;
        }

        MailboxUsage usage = GetOrAdd(folder);
        if (Admit(usage, prefix.Length + length, key, out long reserved) is { } refused)
        {
            return refused;
        }

        string baseName = MaildirName.NewBase(key?.Text);
        string tmpPath = Path.Combine(usage.TmpDirectory, baseName);
        string? newPath = null;
        bool pending = true;
        long counted = -1; // bytes counted for the file in new/, once it is there
        try
        {
            EnsureDirectories(usage);
            long stored, virtualSize;
            using (FileStream file = CreateFile(tmpPath))
            {
                (stored, virtualSize) = CopyAsLf(file, prefix, body, length);
                MailboxRoom room = ReserveStored(usage, ref reserved, stored);
                if (room != MailboxRoom.Ok)
                {
                    pending = false;
                    file.Dispose();
                    _ = TryDelete(tmpPath);
                    return new MaildirDelivery(room, false, null, null);
                }

                // fsync: the data must be on disk before the rename publishes the file.
                file.Flush(flushToDisk: true);
            }

            string fileName = MaildirName.WithSizes(baseName, stored, virtualSize);
            newPath = Path.Combine(usage.NewDirectory, fileName);
            Publish(usage, tmpPath, newPath, stored, reserved);
            counted = stored;
            pending = false;
            MaildirNative.FSyncDirectory(usage.NewDirectory);
            return new MaildirDelivery(MailboxRoom.Ok, true, fileName, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException
                                      or ObjectDisposedException or InvalidDataException)
        {
            string removal = Cleanup(usage, tmpPath, newPath, reserved, pending, counted);
            return MaildirDelivery.Failed(Classify(e), e.Message + removal);
        }
    }

    /// <summary>
    /// The checks before anything is written into the mailbox: no earlier delivery of a recovered
    /// message, and room reserved for <paramref name="wireSize"/> octets; the refusal, or null.
    /// </summary>
    private MaildirDelivery? Admit(MailboxUsage usage, long wireSize, MaildirKey? key, out long reserved)
    {
        reserved = 0;
        return EarlierDelivery(usage, key) ?? Reserve(usage, wireSize, out reserved);
    }

    /// <summary>
    /// Once the stored size is known: the reservation becomes that size, or, when the mailbox has no
    /// room for it, the reservation and the pending mail are dropped; the room found.
    /// </summary>
    private MailboxRoom ReserveStored(MailboxUsage usage, ref long reserved, long stored)
    {
        lock (usage.Gate)
        {
            usage.PendingBytes -= reserved;
            reserved = 0;
            MailboxRoom room = Room(usage.Bytes + usage.PendingBytes, usage.Mails + usage.PendingMails - 1, stored);
            if (room != MailboxRoom.Ok)
            {
                usage.PendingMails--;
                return room;
            }

            usage.PendingBytes += stored;
            reserved = stored;
            return MailboxRoom.Ok;
        }
    }

    /// <summary>Renames the written file into new/ and counts it, in one step so a rescan sees the file either before or after both.</summary>
    private static void Publish(MailboxUsage usage, string tmpPath, string newPath, long stored, long reserved)
    {
        lock (usage.Gate)
        {
            File.Move(tmpPath, newPath, overwrite: false);
            usage.PendingBytes -= reserved;
            usage.PendingMails--;
            usage.Bytes += stored;
            usage.Mails++;
            usage.Dirty = true;
        }
    }

    /// <summary>A negative length or a folder name that <see cref="Recipients.MailboxFolder"/> would not make: refused.</summary>
    private static MaildirDelivery? Unusable(string folder, long length) =>
        length < 0 ? MaildirDelivery.Failed(MaildirFailure.Other, "negative body length")
        : !Recipients.MailboxFolder.IsValid(folder) ? MaildirDelivery.Failed(MaildirFailure.Other, $"'{folder}' is not a mailbox folder name")
        : null;

    /// <summary>
    /// A redelivery of a message this mailbox may already hold (same queue id and key): the earlier
    /// delivery when it is there, a failure when that cannot be told (better later than twice), else null.
    /// </summary>
    private MaildirDelivery? EarlierDelivery(MailboxUsage usage, MaildirKey? key)
    {
        string? keyText = key?.Text;
        if (key is not { } k || keyText is null || !IsExpectedRedelivery(k.QueueId))
        {
            return null;
        }

        try
        {
            return FindDelivered(usage, keyText) is { } existing
                ? new MaildirDelivery(MailboxRoom.Ok, true, existing, null) { AlreadyThere = true }
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Cannot tell whether it is there: better later than twice.
            return MaildirDelivery.Failed(Classify(e), "cannot read the mailbox to check for an earlier delivery: " + e.Message);
        }
    }

    /// <summary>
    /// Reserves room for a message of <paramref name="wireSize"/> octets (or, when that is over the
    /// quota, for the smallest it can be once stored with LF); the refusal when even that does not fit.
    /// </summary>
    private MaildirDelivery? Reserve(MailboxUsage usage, long wireSize, out long reserved)
    {
        // The stored size lies between half the wire size (every byte pair a CRLF) and the wire size.
        long smallest = wireSize - (wireSize / 2);
        lock (usage.Gate)
        {
            RefreshLocked(usage);
            long usedBytes = usage.Bytes + usage.PendingBytes;
            int usedMails = usage.Mails + usage.PendingMails;
            MailboxRoom room = Room(usedBytes, usedMails, wireSize);
            reserved = wireSize;
            if (room == MailboxRoom.FullBySize)
            {
                // Might still fit once stored with LF: written, then checked with the real size.
                room = Room(usedBytes, usedMails, smallest);
                reserved = smallest;
            }

            if (room != MailboxRoom.Ok)
            {
                return new MaildirDelivery(room, false, null, null);
            }

            usage.PendingBytes += reserved;
            usage.PendingMails++;
            return null;
        }
    }

    /// <summary>What kind of I/O failure stopped a delivery: a full file system and an exceeded quota are told apart.</summary>
    internal static MaildirFailure Classify(Exception e) => e switch
    {
        // On Unix an IOException's HResult is the errno: ENOSPC is 28 everywhere, EDQUOT 122 on
        // Linux and 69 on the BSDs and macOS.
        IOException { HResult: 28 } => MaildirFailure.NoSpace,
        IOException { HResult: 122 } when OperatingSystem.IsLinux() => MaildirFailure.Quota,
        IOException { HResult: 69 } when OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() => MaildirFailure.Quota,
        _ => MaildirFailure.Other,
    };

    /// <summary>A new file for writing, mode 0600 whatever the umask.</summary>
    private static FileStream CreateFile(string path)
    {
        FileStreamOptions options = new()
        {
            Mode = System.IO.FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
        };

        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        var file = new FileStream(path, options);
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                // The umask may have taken bits away from the create mode: set it exactly.
                File.SetUnixFileMode(file.SafeFileHandle, FileMode);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        return file;
    }

    /// <summary>Copies the prefix and exactly <paramref name="length"/> bytes of the body, CRLF as LF; returns S= and W=.</summary>
    private static (long Stored, long Virtual) CopyAsLf(FileStream file, ReadOnlySpan<byte> prefix, Stream body, long length)
    {
        using var writer = new LfWriter(file, CopyBufferSize);
        writer.Write(prefix);
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(CopyBufferSize, Math.Max(length, 1)));
        try
        {
            long left = length;
            while (left > 0)
            {
                int read = body.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (read <= 0)
                {
                    throw new IOException($"message body ended {left} bytes early");
                }

                writer.Write(buffer.AsSpan(0, read));
                left -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        writer.Complete();
        return (writer.StoredSize, writer.VirtualSize);
    }

    /// <summary>
    /// Undoes a failed delivery: the reservation, the tmp file, and the file in new/ if it got
    /// there (<paramref name="counted"/> bytes were counted for it, -1: not counted). Returns what to add to the
    /// error: whether a partial file was removed, or could not be.
    /// </summary>
    private static string Cleanup(MailboxUsage usage, string tmpPath, string? newPath, long reserved, bool pending, long counted)
    {
        // The file may be in new/ without having been counted: File.Move links, then unlinks tmp/.
        bool removedFromNew = newPath is not null && TryDelete(newPath);
        bool removedTmp = TryDelete(tmpPath);
        lock (usage.Gate)
        {
            if (pending)
            {
                usage.PendingBytes -= reserved;
                usage.PendingMails--;
            }

            if (removedFromNew && counted >= 0)
            {
                usage.Bytes -= counted;
                usage.Mails--;
            }

            usage.Dirty = true;
        }

        if (File.Exists(tmpPath) || (newPath is not null && File.Exists(newPath)))
        {
            return $"; the partial file could not be removed ({tmpPath})";
        }

        return removedTmp || removedFromNew ? "; the partial file was removed" : string.Empty;
    }

    private static bool TryDelete(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
