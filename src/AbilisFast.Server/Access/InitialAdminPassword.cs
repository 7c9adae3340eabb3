using System.Text;
using AbilisFast.Server.Configuration;

namespace AbilisFast.Server.Access;

/// <summary>
/// WDIR/initial-admin-password: the password of the console administrator a start created because
/// no user had admin rights, as one line <c>NAME PASSWORD</c>. It is made mode 0600 from the moment
/// it exists (whatever the umask), owned by the server's user, so that standard error (under systemd:
/// the journal, which more people may read) carries only its path, as Grafana and Jenkins do with
/// their initial admin password. It is removed when <c>abilisfast user</c> changes or deletes that
/// user, and at a start that finds it stale (its user is gone or has lost its admin rights). A start
/// does not hash the password to compare it: that would load OpenSSL at every start, which
/// otherwise waits for the first login or handshake.
/// </summary>
internal static class InitialAdminPassword
{
    public const string FileName = "initial-admin-password";

    public static string PathIn(string workDir) => Path.Combine(Path.GetFullPath(workDir), FileName);

    /// <summary>
    /// When no user has admin (or super) rights, creates one with a random password, written to the
    /// file before its hash goes into WDIR/users (a crash in between leaves a file that the next
    /// start finds stale). Returns the lines for standard error (no password in them).
    /// </summary>
    public static IReadOnlyList<string> CreateAdminIfNone(string workDir)
    {
        UserStore users = UserStore.Load(workDir);
        var lines = new List<string>();
        if (RemoveIfStale(workDir, users) is { } removed)
        {
            lines.Add(removed);
        }

        if (users.HasAdmin)
        {
            return lines;
        }

        // 'admin', or 'admin2', 'admin3', ... when a user called admin exists with lesser rights.
        string name = "admin";
        for (int i = 2; users.RightsOf(name) is not null; i++)
        {
            name = $"admin{i}";
        }

        string password = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12))
            .Replace('+', 'x').Replace('/', 'y');
        string path = PathIn(workDir);
        PrivateFileWriter.WriteAtomically(path, Encoding.UTF8.GetBytes($"{name} {password}\n"));
        try
        {
            users.Set(name, UserRights.Admin, password);
        }
        catch
        {
            TryDelete(path);
            throw;
        }

        string why = users.Count == 1 ? "first start" : "no user has admin rights";
        lines.Add($"{why}: console user '{name}' created; its password is in {path} (mode 0600, readable by this user only); " +
            $"change it with: abilisfast user {name} --rights admin --wdir {Path.GetFullPath(workDir)} (the file is then removed)");
        return lines;
    }

    /// <summary>The user name and password in the file, or null when there is none (or it is not one line NAME PASSWORD).</summary>
    public static (string Name, string Password)? Read(string workDir)
    {
        string path = PathIn(workDir);
        if (!File.Exists(path))
        {
            return null;
        }

        string[] words = File.ReadAllText(path).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return words.Length == 2 ? (words[0], words[1]) : null;
    }

    /// <summary>
    /// After <c>abilisfast user</c> changed or deleted <paramref name="name"/>: removes the file when
    /// it holds that user's password (now stale). Returns the line to print, or null.
    /// </summary>
    public static string? Forget(string workDir, string name)
    {
        string path = PathIn(workDir);
        try
        {
            if (Read(workDir) is not { } held || !string.Equals(held.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            File.Delete(path);
            return $"removed {path}: it held the first password of '{held.Name}'";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"warning: cannot remove {path} ({e.Message}); delete it: the password in it no longer counts";
        }
    }

    /// <summary>
    /// At a start: removes the file when its user is no longer an administrator (deleted or demoted
    /// in WDIR/users by hand or by an older version), or when it is not one line NAME PASSWORD.
    /// Returns the line to print, or null.
    /// </summary>
    private static string? RemoveIfStale(string workDir, UserStore users)
    {
        string path = PathIn(workDir);
        try
        {
            (string Name, string Password)? held = Read(workDir);
            if (!File.Exists(path) || (held is { } h && users.RightsOf(h.Name) >= UserRights.Admin))
            {
                return null;
            }

            File.Delete(path);
            return $"removed {path}: {(held is { } g ? $"'{g.Name}' is no longer a user with admin rights" : "it is not one line NAME PASSWORD")}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"warning: cannot check {path} ({e.Message})";
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
