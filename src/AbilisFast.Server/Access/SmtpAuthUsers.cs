
namespace AbilisFast.Server.Access;

/// <summary>
/// The users SMTP AUTH accepts: the console's user file (WDIR/users, salted PBKDF2), read again
/// when its modification time changes, so <c>abilisfast user NAME --rights mail</c> takes effect
/// without a restart. Only users with the <c>mail</c> right authenticate over SMTP: console accounts
/// (user, admin, super) do not, so an SMTP password never opens the console and a console password
/// is never sent to the SMTP port. <see cref="Verify"/> runs PBKDF2: call it off the I/O thread.
/// </summary>
internal sealed class SmtpAuthUsers(string workDir)
{
    private readonly Lock _lock = new();
    private UserStore? _store;
    private DateTime _loadedStamp = DateTime.MinValue;

    /// <summary>True when <paramref name="password"/> is right for a <c>mail</c> user (same work for unknown names).</summary>
    public bool Verify(string name, string password)
    {
        UserStore store = Current();
        return store.Verify(name, password) == UserRights.Mail;
    }

    private UserStore Current()
    {
        string path = UserStore.PathIn(workDir);
        DateTime stamp = File.Exists(path) ? File.GetLastWriteTimeUtc(path) : DateTime.MinValue;
        lock (_lock)
        {
            if (_store is null || stamp != _loadedStamp)
            {
                try
                {
                    _store = UserStore.Load(workDir);
                    _loadedStamp = stamp;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
                {
                    // A file being rewritten or damaged: keep the users read last (none on a first failure).
                    _store ??= UserStore.Empty(workDir);
                }
            }

            return _store;
        }
    }
}
