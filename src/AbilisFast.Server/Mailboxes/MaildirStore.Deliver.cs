using System.Buffers;
using System.Globalization;

namespace AbilisFast.Server.Mailboxes;

internal sealed partial class MaildirStore
{
    private const int CopyBufferSize = 64 * 1024;

    /// <summary>Host part of the unique names, with '/' and ':' escaped as the Maildir convention asks.</summary>
    private static readonly string HostName = EscapeHostName(Environment.MachineName);

    private static long s_counter;

    /// <summary>
    /// Writes <paramref name="prefix"/> followed by exactly <paramref name="length"/> bytes of
    /// <paramref name="body"/> as one message: tmp/&lt;unique&gt;, fsync, rename into new/, fsync of
    /// new/. The room check comes first (size = prefix + length); when the mailbox is full nothing is
    /// written. I/O errors (including a body shorter than <paramref name="length"/>) come back in
    /// <see cref="MaildirDelivery.Error"/> and leave nothing behind in new/.
    /// </summary>
    public MaildirDelivery Deliver(string localPart, ReadOnlySpan<byte> prefix, Stream body, long length)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (length < 0)
        {
            return new MaildirDelivery(MailboxRoom.Ok, false, null, "negative body length");
        }

        MailboxUsage usage = GetOrAdd(MailboxName(localPart));
        long size = prefix.Length + length;
        lock (usage.Gate)
        {
            RefreshLocked(usage);
            MailboxRoom room = Room(usage.Bytes + usage.PendingBytes, usage.Mails + usage.PendingMails, size);
            if (room != MailboxRoom.Ok)
            {
                return new MaildirDelivery(room, false, null, null);
            }

            usage.PendingBytes += size;
            usage.PendingMails++;
        }

        string fileName = UniqueName(size);
        string tmpPath = Path.Combine(usage.TmpDirectory, fileName);
        string newPath = Path.Combine(usage.NewDirectory, fileName);
        bool pending = true;
        bool inNew = false;
        try
        {
            EnsureDirectories(usage);
            WriteFile(tmpPath, prefix, body, length, size);
            lock (usage.Gate)
            {
                // Rename and count in one step, so a rescan sees the file either before or after both.
                File.Move(tmpPath, newPath, overwrite: false);
                inNew = true;
                usage.PendingBytes -= size;
                usage.PendingMails--;
                pending = false;
                usage.Bytes += size;
                usage.Mails++;
                usage.Dirty = true;
            }

            MaildirNative.FSyncDirectory(usage.NewDirectory);
            return new MaildirDelivery(MailboxRoom.Ok, true, fileName, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException
                                      or ObjectDisposedException or InvalidDataException)
        {
            Cleanup(usage, tmpPath, newPath, size, pending, inNew);
            return new MaildirDelivery(MailboxRoom.Ok, false, null, e.Message);
        }
    }

    /// <summary>Creates tmp/, new/ and cur/ when missing; a newly created mailbox is made durable in its parents.</summary>
    private void EnsureDirectories(MailboxUsage usage)
    {
        if (Directory.Exists(usage.TmpDirectory) && Directory.Exists(usage.NewDirectory) && Directory.Exists(usage.CurDirectory))
        {
            return;
        }

        bool mailboxExisted = Directory.Exists(usage.Directory);
        _ = Directory.CreateDirectory(usage.TmpDirectory);
        _ = Directory.CreateDirectory(usage.NewDirectory);
        _ = Directory.CreateDirectory(usage.CurDirectory);
        MaildirNative.FSyncDirectory(usage.Directory);
        if (!mailboxExisted)
        {
            MaildirNative.FSyncDirectory(Root);
        }
    }

    private static void WriteFile(string tmpPath, ReadOnlySpan<byte> prefix, Stream body, long length, long size)
    {
        FileStreamOptions options = new()
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
            PreallocationSize = size,
        };

        using FileStream file = new(tmpPath, options);
        file.Write(prefix);
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

                file.Write(buffer, 0, read);
                left -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        // fsync: the data must be on disk before the rename publishes the file.
        file.Flush(flushToDisk: true);
    }

    /// <summary>Undoes a failed delivery: the reservation, the tmp file, and the file in new/ if it got there.</summary>
    private static void Cleanup(MailboxUsage usage, string tmpPath, string newPath, long size, bool pending, bool inNew)
    {
        bool removedFromNew = inNew && TryDelete(newPath);
        _ = TryDelete(tmpPath);
        lock (usage.Gate)
        {
            if (pending)
            {
                usage.PendingBytes -= size;
                usage.PendingMails--;
            }

            if (removedFromNew)
            {
                usage.Bytes -= size;
                usage.Mails--;
            }

            usage.Dirty = true;
        }
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

    /// <summary>Maildir unique name: "&lt;unixtime&gt;.&lt;pid&gt;_&lt;counter&gt;.&lt;hostname&gt;,S=&lt;size&gt;".</summary>
    private static string UniqueName(long size)
    {
        long counter = Interlocked.Increment(ref s_counter);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return string.Create(CultureInfo.InvariantCulture, $"{now}.{Environment.ProcessId}_{counter}.{HostName},S={size}");
    }

    private static string EscapeHostName(string host)
    {
        string escaped = host.Replace("/", "\\057", StringComparison.Ordinal).Replace(":", "\\072", StringComparison.Ordinal);
        return escaped.Length == 0 ? "localhost" : escaped;
    }
}
