using System.Security.Cryptography;
using System.Text;

namespace AbilisFast.Server.Access;

/// <summary>What a user may do: <c>mail</c> only SMTP AUTH; <c>user</c> display commands; <c>admin</c> and <c>super</c> everything.</summary>
internal enum UserRights : byte
{
    Mail,
    User,
    Admin,
    Super,
}

/// <summary>
/// The users of the console, of SMTP AUTH and the local mailboxes, in WDIR/users: one line per user,
/// <c>NAME:RIGHTS:pbkdf2-sha256:ITERATIONS:SALT:HASH</c> (base64). Only salted PBKDF2 hashes are
/// stored; verification compares in constant time and spends the same work on unknown names.
/// A loaded store is a snapshot: a running server follows the file through
/// <see cref="Recipients.UserDirectory"/>.
/// </summary>
internal sealed class UserStore
{
    public const int Iterations = 100_000;
    private const int SaltSize = 16;
    private const int HashSize = 32;
    /// <summary>The salt of the work done for unknown names: any unpredictable bytes (a new GUID's, so that loading the users does not load OpenSSL; the first login does).</summary>
    private static readonly byte[] DummySalt = Guid.NewGuid().ToByteArray();

    private readonly string _path;
    private readonly Lock _lock = new();
    private Dictionary<string, Entry> _users;

    private UserStore(string path, Dictionary<string, Entry> users)
    {
        _path = path;
        _users = users;
    }

    public static string PathIn(string workDir) => Path.Combine(workDir, "users");

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _users.Count;
            }
        }
    }

    /// <summary>The users in file order: name and rights.</summary>
    public IReadOnlyList<(string Name, UserRights Rights)> List()
    {
        lock (_lock)
        {
            return [.. _users.Values.Select(e => (e.Name, e.Rights))];
        }
    }

    /// <summary>The rights of <paramref name="name"/> (any case), or null when there is no such user.</summary>
    public UserRights? RightsOf(string name)
    {
        lock (_lock)
        {
            return _users.TryGetValue(name, out Entry? entry) ? entry.Rights : null;
        }
    }

    /// <summary>True when at least one user may administer the console (admin or super).</summary>
    public bool HasAdmin => List().Any(u => u.Rights >= UserRights.Admin);

    /// <summary>A store with no users (saving it writes the file in <paramref name="workDir"/>).</summary>
    public static UserStore Empty(string workDir) => new(PathIn(workDir), new Dictionary<string, Entry>(StringComparer.OrdinalIgnoreCase));

    /// <summary>Loads the file (an absent file is an empty store). Malformed lines are an error naming the line.</summary>
    public static UserStore Load(string workDir)
    {
        string path = PathIn(workDir);
        var users = new Dictionary<string, Entry>(StringComparer.OrdinalIgnoreCase);
        if (File.Exists(path))
        {
            int number = 0;
            foreach (string line in File.ReadAllLines(path))
            {
                number++;
                if (line.Length == 0 || line.StartsWith('#'))
                {
                    continue;
                }

                if (!Entry.TryParse(line, out Entry? entry))
                {
                    throw new InvalidDataException($"{path}:{number}: malformed user line");
                }

                users[entry!.Name] = entry;
            }
        }

        return new UserStore(path, users);
    }

    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 32 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    public static bool TryParseRights(string text, out UserRights rights)
    {
        UserRights? parsed = text.ToLowerInvariant() switch
        {
            "mail" => UserRights.Mail,
            "user" => UserRights.User,
            "admin" => UserRights.Admin,
            "super" => UserRights.Super,
            _ => null,
        };
        rights = parsed.GetValueOrDefault();
        return parsed.HasValue;
    }

    public static string RightsName(UserRights rights) => rights switch
    {
        UserRights.Mail => "mail",
        UserRights.User => "user",
        UserRights.Admin => "admin",
        _ => "super",
    };

    /// <summary>Creates or changes a user and saves the file atomically (write, fsync, rename).</summary>
    public void Set(string name, UserRights rights, string password)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException($"user name '{name}' is invalid: 1-32 letters, digits, '-', '_' or '.'", nameof(name));
        }

        if (password.Length == 0)
        {
            throw new ArgumentException("the password is empty", nameof(password));
        }

        byte[] salt = RandomNumberGenerator.GetBytes(SaltSize);
        var entry = new Entry(name, rights, Iterations, salt, Hash(password, salt, Iterations));
        lock (_lock)
        {
            var users = new Dictionary<string, Entry>(_users, StringComparer.OrdinalIgnoreCase) { [name] = entry };
            Save(users);
            _users = users;
        }
    }

    /// <summary>Removes a user and saves the file atomically; false when there is no such user (nothing written).</summary>
    public bool Delete(string name)
    {
        lock (_lock)
        {
            if (!_users.ContainsKey(name))
            {
                return false;
            }

            var users = new Dictionary<string, Entry>(_users, StringComparer.OrdinalIgnoreCase);
            users.Remove(name);
            Save(users);
            _users = users;
            return true;
        }
    }

    /// <summary>The user's rights when the password is right; null otherwise (same work either way).</summary>
    public UserRights? Verify(string name, string password)
    {
        Entry? entry;
        lock (_lock)
        {
            _users.TryGetValue(name, out entry);
        }

        byte[] computed = Hash(password, entry?.Salt ?? DummySalt, entry?.Iterations ?? Iterations);
        bool match = entry is not null && CryptographicOperations.FixedTimeEquals(computed, entry.Hash);
        return match ? entry!.Rights : null;
    }

    [ThreadStatic]
    private static long _iterationsOnThisThread;

    /// <summary>
    /// PBKDF2 iterations this thread has computed: <see cref="Verify"/> adds as many for an unknown
    /// name as for a wrong password (tests compare the work without timing it).
    /// </summary>
    internal static long IterationsOnThisThread => _iterationsOnThisThread;

    private static byte[] Hash(string password, byte[] salt, int iterations)
    {
        _iterationsOnThisThread += iterations;
        return Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashSize);
    }

    private void Save(Dictionary<string, Entry> users)
    {
        string temp = _path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var writer = new StreamWriter(file, new UTF8Encoding(false)))
        {
            writer.WriteLine("# abilisfast users: NAME:RIGHTS:pbkdf2-sha256:ITERATIONS:SALT:HASH");
            foreach (Entry e in users.Values.OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                writer.WriteLine(e.Format());
            }

            writer.Flush();
            file.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temp, _path, overwrite: true);
    }

    private sealed record Entry(string Name, UserRights Rights, int Iterations, byte[] Salt, byte[] Hash)
    {
        public string Format() =>
            $"{Name}:{RightsName(Rights)}:pbkdf2-sha256:{Iterations}:{Convert.ToBase64String(Salt)}:{Convert.ToBase64String(Hash)}";

        public static bool TryParse(string line, out Entry? entry)
        {
            entry = null;
            string[] parts = line.Split(':');
            if (parts.Length != 6 || !IsValidName(parts[0]) || !TryParseRights(parts[1], out UserRights rights)
                || parts[2] != "pbkdf2-sha256" || !int.TryParse(parts[3], out int iterations) || iterations < 1000)
            {
                return false;
            }

            try
            {
                entry = new Entry(parts[0], rights, iterations, Convert.FromBase64String(parts[4]), Convert.FromBase64String(parts[5]));
                return entry.Hash.Length == HashSize && entry.Salt.Length >= 8;
            }
            catch (FormatException)
            {
                return false;
            }
        }
    }
}
