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
        Assert.Contains("no user has admin rights now: the next start creates one and prints its password", adminOutput);
        Assert.Contains("no users in", Run("", "--list").Output);
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
