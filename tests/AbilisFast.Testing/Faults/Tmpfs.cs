namespace AbilisFast.Server.Tests.Faults;

/// <summary>
/// A small tmpfs mounted on a new temporary folder (<c>mount -t tmpfs -o size=N</c>), unmounted and
/// removed on dispose: a disk that really fills up. Needs root (CI runs the tests as root).
/// </summary>
internal sealed class Tmpfs : IDisposable
{
    private Tmpfs(string path) => Path = path;

    public string Path { get; }

    /// <summary>Free bytes as statvfs reports them to an unprivileged writer.</summary>
    public long Available => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>Why a tmpfs cannot be mounted here, or null when it can (tried once, with a 1 MiB one).</summary>
    public static string? Unavailable => Probe.Value;

    private static readonly Lazy<string?> Probe = new(() =>
    {
        if (!OperatingSystem.IsLinux())
        {
            return "needs Linux (tmpfs)";
        }

        if (Environment.UserName != "root")
        {
            return $"needs root to mount a tmpfs (running as {Environment.UserName}); CI runs the tests as root";
        }

        try
        {
            using Tmpfs probe = Mount(1);
            return null;
        }
        catch (InvalidOperationException e)
        {
            return e.Message;
        }
    });

    public static Tmpfs Mount(int megabytes) =>
        Mount(megabytes, System.IO.Path.Combine(System.IO.Path.GetTempPath(), "abilisfast-tmpfs-" + Guid.NewGuid().ToString("N")[..12]));

    /// <summary>Mounts it on <paramref name="path"/> (made when missing), e.g. one folder of a WDIR.</summary>
    public static Tmpfs Mount(int megabytes, string path)
    {
        Directory.CreateDirectory(path);
        (int exit, string output) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
        if (exit != 0)
        {
            Directory.Delete(path);
            throw new InvalidOperationException($"mount -t tmpfs failed (exit {exit}): {output.Trim()}");
        }

        return new Tmpfs(path);
    }

    /// <summary>Makes the mount read-only (<c>mount -o remount,ro</c>), as the systemd unit makes /etc.</summary>
    public void RemountReadOnly()
    {
        (int exit, string output) = Run("mount", "-o", "remount,ro", Path);
        if (exit != 0)
        {
            throw new InvalidOperationException($"mount -o remount,ro failed (exit {exit}): {output.Trim()}");
        }
    }

    /// <summary>Writes real bytes into a new file until the disk has no byte left (ENOSPC); returns its path.</summary>
    public string FillUp(string name)
    {
        string file = System.IO.Path.Combine(Path, name);
        byte[] block = new byte[1 << 16];
        Array.Fill(block, (byte)0x5A);
        using Microsoft.Win32.SafeHandles.SafeFileHandle handle = File.OpenHandle(file, FileMode.Create, FileAccess.Write);
        long offset = 0;
        try
        {
            while (true)
            {
                RandomAccess.Write(handle, block, offset);
                offset += block.Length;
            }
        }
        catch (IOException)
        {
            // ENOSPC: full.
        }

        return file;
    }

    /// <summary>Writes a file of <paramref name="bytes"/> real (not sparse) bytes: the disk fills up.</summary>
    public string Fill(string name, long bytes)
    {
        string file = System.IO.Path.Combine(Path, name);
        byte[] block = new byte[1 << 20];
        Array.Fill(block, (byte)0x5A);
        using var stream = new FileStream(file, FileMode.Create, FileAccess.Write);
        for (long left = bytes; left > 0; left -= block.Length)
        {
            stream.Write(block, 0, (int)Math.Min(block.Length, left));
        }

        return file;
    }

    private static (int Exit, string Output) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            using Process process = Process.Start(info)!;
            string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"{file}: {e.Message}");
        }
    }

    public void Dispose()
    {
        (int exit, _) = Run("umount", Path);
        if (exit != 0)
        {
            Run("umount", "-l", Path); // something still holds it open: detach it
        }

        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// A fact that needs a tmpfs: xunit 2 has no skip decided inside the test, so the condition is
/// checked when the tests are discovered and the test is reported skipped with the reason
/// (<see cref="Tmpfs.Unavailable"/>); where a tmpfs can be mounted it runs and asserts.
/// </summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (Tmpfs.Unavailable is { } reason)
        {
            Skip = "disk-full test not run: " + reason;
        }
    }
}
