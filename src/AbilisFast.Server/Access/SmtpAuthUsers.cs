namespace AbilisFast.Server.Access;

/// <summary>
/// The users SMTP AUTH accepts: the console's user file (WDIR/users, salted PBKDF2) as the
/// <see cref="UserDirectory"/> follows it, so <c>abilisfast user NAME --rights mail</c>, a new
/// password or <c>--delete</c> takes effect without a restart. Only users with the <c>mail</c>
/// right authenticate over SMTP: console accounts (user, admin, super) do not, so an SMTP password
/// never opens the console and a console password is never sent to the SMTP port.
/// <see cref="Verify"/> runs PBKDF2: call it off the I/O thread.
/// </summary>
internal sealed class SmtpAuthUsers(UserDirectory users)
{
    public SmtpAuthUsers(string workDir)
        : this(new UserDirectory(workDir))
    {
    }

    /// <summary>True when <paramref name="password"/> is right for a <c>mail</c> user (same work for unknown names).</summary>
    public bool Verify(string name, string password) => users.Verify(name, password) == UserRights.Mail;
}
