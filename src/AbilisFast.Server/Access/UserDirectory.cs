namespace AbilisFast.Server.Access;

/// <summary>
/// WDIR/users as a running server sees it: the console login, SMTP AUTH and the local recipients
/// all read the same snapshot, and <see cref="Refresh"/> reads the file again when it changed
/// (one stat when it did not). <c>abilisfast user ...</c> rewrites the file (write, fsync, rename),
/// so a new user, a new password or a deleted user counts at the next login, AUTH or transaction.
/// A file that does not load keeps the users read last and says why, once per change.
/// </summary>
internal sealed class UserDirectory
{
    private readonly WatchedFile _file;
    private readonly Lock _lock = new();
    private readonly Action<string>? _report;
    private readonly string _workDir;
    private volatile UserStore _current;
    private string? _text;
    private int _version;

    /// <param name="report">Gets one line when the file cannot be read (the previous users stay).</param>
    public UserDirectory(string workDir, Action<string>? report = null)
    {
        _workDir = workDir;
        _file = new WatchedFile(UserStore.PathIn(workDir));
        _report = report;
        _current = UserStore.Empty(workDir);
        Refresh();
    }

    /// <summary>The users read last (no file access).</summary>
    public UserStore Current => _current;

    /// <summary>Grows by one each time a different file was loaded.</summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>Reads the file again if it changed; true when the users in force changed.</summary>
    public bool Refresh()
    {
        if (!_file.Changed())
        {
            return false;
        }

        lock (_lock)
        {
            if (!_file.Changed())
            {
                return false;
            }

            _file.MarkRead();
            try
            {
                // The same text again (read during the settle time after a change): nothing to do.
                string text = File.Exists(_file.Path) ? File.ReadAllText(_file.Path) : string.Empty;
                if (text == _text)
                {
                    return false;
                }

                _current = UserStore.Load(_workDir);
                _text = text;
                Interlocked.Increment(ref _version);
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                _report?.Invoke($"users: {e.Message}; the users read before stay in force");
                return false;
            }
        }
    }

    /// <summary>The user's rights when the password is right (after a refresh); null otherwise. Runs PBKDF2: not on an I/O thread.</summary>
    public UserRights? Verify(string name, string password)
    {
        Refresh();
        return _current.Verify(name, password);
    }
}
