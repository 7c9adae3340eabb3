namespace AbilisFast.Server.Tests.Admin;

/// <summary><c>abilisfast user</c>: set, list and delete, with the exit codes and messages a script sees.</summary>
public sealed class UserCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("abilisfast-usercmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Output, string Error) Run(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = UserCommand.Run([.. args, "--wdir", _dir], new StringReader(stdin), output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void SetListAndDelete()
    {
        Assert.Equal(0, Run("pw1\n", "Bob", "--rights", "mail").Exit);
        Assert.Equal(0, Run("pw2\n", "boss", "--rights", "admin").Exit);

        var (exit, list, _) = Run("", "--list");
        Assert.Equal(0, exit);
        Assert.Equal(["NAME  RIGHTS  MAILBOX", "Bob   mail    bob", "boss  admin   -"], list.TrimEnd().Split(Environment.NewLine));

        var (deleted, output, _) = Run("", "--delete", "BOB");
        Assert.Equal(0, deleted);
        Assert.Contains("user 'BOB' deleted from", output);
        Assert.Null(UserStore.Load(_dir).RightsOf("bob"));

        var (lastAdmin, adminOutput, _) = Run("", "--delete", "boss");
        Assert.Equal(0, lastAdmin);
        Assert.Contains($"no user has admin rights now: the next start creates one and writes its password to {Path.Combine(_dir, "initial-admin-password")}", adminOutput);
        Assert.Contains("no users in", Run("", "--list").Output);
    }

    /// <summary>
    /// A start with no admin writes the password to WDIR/initial-admin-password (0600, one line
    /// NAME PASSWORD) and prints only the path; changing or deleting that user removes the file,
    /// changing another user does not.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void TheFirstPasswordFileGoesWhenItsUserIsChangedOrDeleted()
    {
        string path = InitialAdminPassword.PathIn(_dir);
        string printed = Assert.Single(InitialAdminPassword.CreateAdminIfNone(_dir));
        (string name, string password) = InitialAdminPassword.Read(_dir)!.Value;
        Assert.Equal("admin", name);
        Assert.Equal($"admin {password}\n", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.DoesNotContain(password, printed);
        Assert.StartsWith($"first start: console user 'admin' created; its password is in {path} (mode 0600", printed);
        Assert.Equal(UserRights.Admin, UserStore.Load(_dir).Verify("admin", password));
        Assert.Empty(InitialAdminPassword.CreateAdminIfNone(_dir)); // an admin exists and the file still counts

        var (exit, output, _) = Run("pw\n", "bob", "--rights", "mail");
        Assert.Equal(0, exit);
        Assert.DoesNotContain("removed", output);
        Assert.True(File.Exists(path));

        (exit, output, _) = Run("new admin pw\n", "Admin", "--rights", "admin");
        Assert.Equal(0, exit);
        Assert.Contains($"abilisfast: removed {path}: it held the first password of 'admin'", output);
        Assert.False(File.Exists(path));

        // Deleted: the next start creates 'admin' again, with a new file that the next delete removes.
        Assert.Equal(0, Run("", "--delete", "admin").Exit);
        Assert.Single(InitialAdminPassword.CreateAdminIfNone(_dir));
        Assert.True(File.Exists(path));
        (exit, output, _) = Run("", "--delete", "admin");
        Assert.Equal(0, exit);
        Assert.Contains($"abilisfast: removed {path}", output);
        Assert.False(File.Exists(path));
    }

    /// <summary>A file whose user is no longer an administrator is removed at the next start.</summary>
    [Fact]
    public void AStaleFirstPasswordFileIsRemovedAtStart()
    {
        Assert.Single(InitialAdminPassword.CreateAdminIfNone(_dir));
        string path = InitialAdminPassword.PathIn(_dir);
        UserStore store = UserStore.Load(_dir);
        store.Set("boss", UserRights.Super, "boss pw");
        store.Delete("admin"); // behind abilisfast user's back
        Assert.Equal([$"removed {path}: 'admin' is no longer a user with admin rights"], InitialAdminPassword.CreateAdminIfNone(_dir));
        Assert.False(File.Exists(path));

        // Demoted to a mail user: the file goes and a new admin (admin2) gets a new file.
        string other = Directory.CreateDirectory(Path.Combine(_dir, "other")).FullName;
        Assert.Single(InitialAdminPassword.CreateAdminIfNone(other));
        (string _, string password) = InitialAdminPassword.Read(other)!.Value;
        UserStore.Load(other).Set("admin", UserRights.Mail, password);
        IReadOnlyList<string> lines = InitialAdminPassword.CreateAdminIfNone(other);
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("removed ", lines[0]);
        Assert.StartsWith("no user has admin rights: console user 'admin2' created", lines[1]);
        Assert.Equal("admin2", InitialAdminPassword.Read(other)!.Value.Name);
    }

    [Theory]
    [InlineData(new[] { "--delete", "ghost" }, 2, "abilisfast: no user 'ghost' in")]
    [InlineData(new[] { "--list", "--delete", "x" }, 2, "give one of NAME --rights R, --list or --delete NAME")]
    [InlineData(new[] { "bob" }, 2, "usage: abilisfast user NAME --rights")]
    [InlineData(new[] { "--frobnicate" }, 2, "unexpected argument '--frobnicate'")]
    [InlineData(new string[0], 2, "abilisfast user --list [--wdir DIR]")]
    public void MistakesGetTheUsage(string[] args, int exit, string message)
    {
        var (code, _, error) = Run("", args);
        Assert.Equal(exit, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void HelpListsTheSubcommandsOfUser()
    {
        var (exit, output, _) = Run("", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("abilisfast user --delete NAME [--wdir DIR]", output);
    }
}
