namespace AbilisFast.Server.Configuration;

/// <summary>
/// Files of WDIR that hold secrets or mail data (the saved configuration with SERVER-PWD, the
/// banned addresses): mode 0600 from the moment they exist, whatever the umask, and replaced
/// atomically (a temporary file in the same folder, fsynced, renamed over the old one).
/// </summary>
internal static class PrivateFileWriter
{
    /// <summary>Read and write for the owner only (0600).</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="path"/> as a new 0600 file. A failure
    /// leaves the old file as it was and no temporary file behind, and is thrown as it came
    /// (<see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>).
    /// </summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> bytes)
    {
        string temp = path + ".tmp";
        File.Delete(temp); // a leftover of a crash would keep its old mode
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = Mode;
        }

        try
        {
            using (var file = new FileStream(temp, options))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
