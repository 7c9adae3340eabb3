namespace AbilisFast.Server.Tests.Admin;

public sealed class UserStoreTests : IDisposable
{
    private readonly string _dir = ServerProcess.NewWorkDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PasswordsAreStoredOnlyAsSaltedHashes()
    {
        var store = UserStore.Load(_dir);
        store.Set("alice", UserRights.Super, "correct horse");
        store.Set("bob", UserRights.User, "correct horse");
        string file = File.ReadAllText(UserStore.PathIn(_dir));
        Assert.DoesNotContain("correct horse", file);
        string[] lines = file.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.Matches(@"^\w+:(super|user):pbkdf2-sha256:100000:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$", l));
        Assert.NotEqual(lines[0].Split(':')[5], lines[1].Split(':')[5]); // same password, different salt, different hash
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(UserStore.PathIn(_dir)));
        }

        var reloaded = UserStore.Load(_dir);
        Assert.Equal(UserRights.Super, reloaded.Verify("alice", "correct horse"));
        Assert.Equal(UserRights.Super, reloaded.Verify("ALICE", "correct horse"));
        Assert.Null(reloaded.Verify("alice", "correct horsE"));
        Assert.Null(reloaded.Verify("carol", "correct horse"));
    }

    /// <summary>
    /// An unknown name costs the same PBKDF2 work as a wrong password (and as a right one), so the
    /// time of a refusal does not tell whether a user exists: counted in iterations, not timed.
    /// </summary>
    [Fact]
    public void AnUnknownUserCostsTheSameHashingAsAWrongPassword()
    {
        var store = UserStore.Load(_dir);
        store.Set("alice", UserRights.Mail, "correct horse");
        store = UserStore.Load(_dir);

        long Work(string name, string password, UserRights? expected)
        {
            long before = UserStore.IterationsOnThisThread;
            Assert.Equal(expected, store.Verify(name, password));
            return UserStore.IterationsOnThisThread - before;
        }

        long right = Work("alice", "correct horse", UserRights.Mail);
        long wrong = Work("alice", "wrong", null);
        long unknown = Work("nobody", "wrong", null);
        long invalid = Work("not a valid name!", "x", null);
        Assert.Equal(UserStore.Iterations, right);
        Assert.Equal(right, wrong);
        Assert.Equal(right, unknown);
        Assert.Equal(right, invalid);
    }

    [Fact]
    public void ChangingAUserReplacesIt()
    {
        var store = UserStore.Load(_dir);
        store.Set("alice", UserRights.User, "one");
        store.Set("alice", UserRights.Admin, "two");
        Assert.Equal(1, store.Count);
        Assert.Null(store.Verify("alice", "one"));
        Assert.Equal(UserRights.Admin, UserStore.Load(_dir).Verify("alice", "two"));
    }

    [Fact]
    public void MalformedFilesAndNamesAreRefused()
    {
        File.WriteAllText(UserStore.PathIn(_dir), "alice:root:plain:1:x:y\n");
        Assert.Throws<InvalidDataException>(() => UserStore.Load(_dir));
        File.Delete(UserStore.PathIn(_dir));
        Assert.Throws<ArgumentException>(() => UserStore.Load(_dir).Set("bad name", UserRights.User, "x"));
        Assert.Throws<ArgumentException>(() => UserStore.Load(_dir).Set("ok", UserRights.User, ""));
    }
}
