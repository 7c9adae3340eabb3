using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace AbilisFast.Server.Spool;

/// <summary>libc calls the spool needs (Linux, 64-bit).</summary>
internal static unsafe partial class SpoolNative
{
    private const int ORdOnly = 0;
    private const int ORdWr = 2;
    private const int OCreat = 0x40;
    private const int OExcl = 0x80;
    private const int OCloExec = 0x80000;

    /// <summary>Files of the spool: read and write for the owner only (0600), whatever the umask.</summary>
    public const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Folders of the spool: the owner only (0700).</summary>
    public const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FDataSyncNative(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSyncNative(int fd);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int FAllocateNative(int fd, int mode, long offset, long length);

    [LibraryImport("libc", EntryPoint = "sync_file_range")]
    private static partial int SyncFileRangeNative(int fd, long offset, long length, uint flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenModeNative(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseNative(int fd);

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatVfsNative(string path, StatVfs* buf);

    /// <summary>struct statvfs on 64-bit glibc (x64 / arm64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct StatVfs
    {
        public ulong Bsize;
        public ulong Frsize;
        public ulong Blocks;
        public ulong Bfree;
        public ulong Bavail;
        public ulong Files;
        public ulong Ffree;
        public ulong Favail;
        public ulong Fsid;
        public ulong Flag;
        public ulong Namemax;
        public fixed int Spare[6];
    }

    public static void FDataSync(SafeFileHandle handle) => SyncCore(handle, dataOnly: true);

    public static void FSync(SafeFileHandle handle) => SyncCore(handle, dataOnly: false);

    private static void SyncCore(SafeFileHandle handle, bool dataOnly)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            int rc = dataOnly ? FDataSyncNative(fd) : FSyncNative(fd);
            if (rc != 0)
            {
                throw Errno(dataOnly ? "fdatasync" : "fsync");
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Starts writeback of the dirty pages in [offset, offset + length) without waiting for it
    /// (sync_file_range with SYNC_FILE_RANGE_WRITE): not a durability barrier, only an early start,
    /// so that a later fdatasync has less to write. Best effort: a failure here (a closed handle,
    /// a filesystem without it) changes nothing, and a write error shows at the fdatasync.
    /// </summary>
    public static void StartWriteback(SafeFileHandle handle, long offset, long length)
    {
        const uint SyncFileRangeWrite = 2;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            _ = SyncFileRangeNative((int)handle.DangerousGetHandle(), offset, length, SyncFileRangeWrite);
        }
        catch (ObjectDisposedException)
        {
            // The segment was closed meanwhile (the spool is shutting down).
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Creates a new file (it must not exist) with mode 0600 from the start: open(2) with O_EXCL and
    /// the mode, so no other user can open it even for a moment, whatever the umask.
    /// </summary>
    public static SafeFileHandle CreatePrivateFile(string path)
    {
        int fd = OpenModeNative(path, ORdWr | OCreat | OExcl | OCloExec, (uint)PrivateFile);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot create {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// Creates <paramref name="directory"/> with mode 0700, or takes the group and other bits off one
    /// that exists (a spool made by an older version, or under a permissive umask).
    /// </summary>
    public static void CreatePrivateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        Directory.CreateDirectory(directory, PrivateFolder);
        _ = MakePrivate(directory, PrivateFolder);
    }

    /// <summary>
    /// Takes the group and other bits off an existing file or folder; false when that is not
    /// possible (another owner's file): it is then used as it is.
    /// </summary>
    public static bool MakePrivate(string path, UnixFileMode mode)
    {
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if (OperatingSystem.IsWindows())
        {
            return false;
        }

        try
        {
            if ((File.GetUnixFileMode(path) & others) != 0)
            {
                File.SetUnixFileMode(path, mode);
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>EOPNOTSUPP: the filesystem has no fallocate (UBIFS, JFFS2, ext2/ext3 without extents, NFSv3).</summary>
    public const int NotSupported = 95;

    /// <summary>
    /// Allocates blocks for [0, length) and sets the file size; false with <paramref name="errno"/>
    /// when it failed: <see cref="NotSupported"/> when the filesystem cannot, 28 (ENOSPC) when the
    /// disk is full.
    /// </summary>
    public static bool TryFAllocate(SafeFileHandle handle, long length, out int errno)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (FAllocateNative((int)handle.DangerousGetHandle(), 0, 0, length) == 0)
            {
                errno = 0;
                return true;
            }

            errno = Marshal.GetLastPInvokeError();
            return false;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    public static void FSyncDirectory(string directory)
    {
        int fd = OpenNative(directory, ORdOnly | OCloExec);
        if (fd < 0)
        {
            throw Errno("open(dir)");
        }

        try
        {
            if (FSyncNative(fd) != 0)
            {
                throw Errno("fsync(dir)");
            }
        }
        finally
        {
            _ = CloseNative(fd);
        }
    }

    /// <summary>Bytes available to unprivileged users on the filesystem holding <paramref name="path"/>.</summary>
    public static long AvailableBytes(string path)
    {
        StatVfs s;
        if (StatVfsNative(path, &s) != 0)
        {
            throw Errno("statvfs");
        }

        ulong bytes = s.Bavail * s.Frsize;
        return bytes > long.MaxValue ? long.MaxValue : (long)bytes;
    }

    private static IOException Errno(string call)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})", errno);
    }
}
