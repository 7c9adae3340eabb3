namespace AbilisFast.Server.Configuration;

/// <summary>
/// Exit codes of the executable and of its commands (documented in docs/operations.md, and for
/// <c>abilisfast ctl</c> in docs/console.md). <c>abilisfast sendmail</c> has sendmail's own: <see cref="Submission.SysExits"/>.
/// </summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary><c>abilisfast ctl</c>: the console answered <c>ERROR:</c>.</summary>
    public const int CommandFailed = 1;

    public const int Usage = 2;
    public const int PortInUse = 3;
    public const int WorkDirUnusable = 4;

    /// <summary><c>abilisfast ctl</c>: the admin port refused the login.</summary>
    public const int LoginFailed = 5;

    /// <summary><c>abilisfast ctl</c>: the admin port cannot be reached.</summary>
    public const int Unreachable = 6;
}
