using System.Runtime.InteropServices;

namespace AbilisFast.Server.Mailboxes;

/// <summary>
/// Directory fsync for Maildir deliveries: after the rename into new/, the directory entry itself
/// must reach the disk, which .NET offers no managed call for. Unix only; a no-op on Windows, where
/// directories cannot be opened for flushing and NTFS journals the rename.
/// </summary>
internal static partial class MaildirNative
{
    private const int ORdOnly = 0;
    // O_DIRECTORY differs by architecture: 0200000 on x86/x64, the generic 040000 on arm64 and the
    // rest (on arm64, 0x10000 is O_DIRECT, and open() refused the directory with EINVAL).
    private static readonly int OLinuxDirectory =
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86 ? 0x10000 : 0x4000;
    private const int OLinuxCloExec = 0x80000;
    private const int EInval = 22;
    private const int ENotSup = 95; // also EOPNOTSUPP on Linux
    private const int EBadF = 9;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSyncNative(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseNative(int fd);

    /// <summary>
    /// Opens <paramref name="directory"/> read-only and fsyncs it. Throws <see cref="IOException"/> on
    /// failure, except where the platform or file system cannot flush a directory (Windows; EINVAL,
    /// ENOTSUP or EBADF from fsync on file systems without directory sync), which counts as done.
    /// </summary>
    public static void FSyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int flags = OperatingSystem.IsLinux() ? ORdOnly | OLinuxDirectory | OLinuxCloExec : ORdOnly;
        int fd = OpenNative(directory, flags);
        if (fd < 0)
        {
            throw Errno("open", directory);
        }

        try
        {
            if (FSyncNative(fd) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (!OperatingSystem.IsLinux() || errno is not (EInval or ENotSup or EBadF))
                {
                    throw Errno("fsync", directory, errno);
                }
            }
        }
        finally
        {
            _ = CloseNative(fd);
        }
    }

    private static IOException Errno(string call, string path) => Errno(call, path, Marshal.GetLastPInvokeError());

    private static IOException Errno(string call, string path, int errno) =>
        new($"{call}({path}) failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})", errno);
}
