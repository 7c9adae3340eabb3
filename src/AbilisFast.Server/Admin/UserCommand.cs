using AbilisFast.Server.Access;

namespace AbilisFast.Server.Admin;

/// <summary>
/// <c>abilisfast user NAME --rights user|admin|super|mail [--wdir DIR]</c> creates or changes a user,
/// reading the password from standard input (one line); <c>abilisfast user --list</c> prints the
/// users and their rights; <c>abilisfast user --delete NAME</c> removes one. Works whether the
/// server runs or not: WDIR/users is rewritten atomically and a running server follows it (the next
/// console login and SMTP AUTH, and RCPT within a second).
/// </summary>
internal static class UserCommand
{
    public const string Usage =
        "usage: abilisfast user NAME --rights user|admin|super|mail [--wdir DIR]  (password on standard input)\n" +
        "       abilisfast user --list [--wdir DIR]\n" +
        "       abilisfast user --delete NAME [--wdir DIR]";

    private static readonly ArgumentGrammar Grammar = new ArgumentGrammar { MaxPositionals = 1 }
        .Option("--rights", ValueForms.EmptyAllowed)
        .Option("--wdir", ValueForms.EmptyAllowed)
        .Option("--delete")
        .Flag("--list")
        .Flag("--help", "-h");

    public static int Run(IReadOnlyList<string> args, TextReader input, TextWriter output, TextWriter error)
    {
        ParsedArguments parsed = Grammar.Parse(args);
        if (parsed.Error is { } bad)
        {
            error.WriteLine($"abilisfast: unexpected argument '{bad.Argument}'; {Usage}");
            return ExitCodes.Usage;
        }

        if (parsed.Has("--help"))
        {
            output.WriteLine(Usage);
            return ExitCodes.Ok;
        }

        string? name = parsed.Positionals.Count > 0 ? parsed.Positionals[0].Text : null;
        string? rightsText = parsed.Value("--rights");
        string? deleteName = parsed.Value("--delete");
        bool list = parsed.Has("--list");
        string workDir = parsed.Value("--wdir") ?? ParameterTable.DefaultWorkDir;
        int actions = (list ? 1 : 0) + (deleteName is null ? 0 : 1) + (name is null && rightsText is null ? 0 : 1);
        if (actions != 1)
        {
            error.WriteLine(actions == 0 ? $"abilisfast: {Usage}" : "abilisfast: give one of NAME --rights R, --list or --delete NAME");
            if (actions != 0)
            {
                error.WriteLine(Usage);
            }

            return ExitCodes.Usage;
        }

        if (list)
        {
            return List(workDir, output, error);
        }

        if (deleteName is not null)
        {
            return Delete(workDir, deleteName, output, error);
        }

        return Set(name, rightsText, workDir, input, output, error);
    }

    /// <summary>Creates or changes user <paramref name="name"/> with the password read from <paramref name="input"/>.</summary>
    private static int Set(string? name, string? rightsText, string workDir, TextReader input, TextWriter output, TextWriter error)
    {
        if (name is null || rightsText is null)
        {
            error.WriteLine($"abilisfast: {Usage}");
            return ExitCodes.Usage;
        }

        if (!UserStore.IsValidName(name))
        {
            error.WriteLine($"abilisfast: user name '{name}' is invalid: 1-32 letters, digits, '-', '_' or '.'");
            return ExitCodes.Usage;
        }

        if (!UserStore.TryParseRights(rightsText, out UserRights rights))
        {
            error.WriteLine($"abilisfast: --rights {rightsText} is invalid: allowed user, admin, super, mail");
            return ExitCodes.Usage;
        }

        string? password = input.ReadLine();
        if (string.IsNullOrEmpty(password))
        {
            error.WriteLine("abilisfast: no password on standard input");
            return ExitCodes.Usage;
        }

        try
        {
            Directory.CreateDirectory(workDir);
            UserStore.Load(workDir).Set(name, rights, password);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            error.WriteLine($"abilisfast: cannot update {UserStore.PathIn(workDir)}: {e.Message}");
            return ExitCodes.WorkDirUnusable;
        }

        output.WriteLine($"abilisfast: user '{name}' set with rights {UserStore.RightsName(rights)} in {UserStore.PathIn(Path.GetFullPath(workDir))}");
        ForgetInitialPassword(workDir, name, output);
        return ExitCodes.Ok;
    }

    /// <summary>One line per user: NAME RIGHTS, and for a mail user the mailbox folder.</summary>
    private static int List(string workDir, TextWriter output, TextWriter error)
    {
        UserStore users;
        try
        {
            users = UserStore.Load(workDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            error.WriteLine($"abilisfast: cannot read {UserStore.PathIn(workDir)}: {e.Message}");
            return ExitCodes.WorkDirUnusable;
        }

        IReadOnlyList<(string Name, UserRights Rights)> all = users.List();
        if (all.Count == 0)
        {
            output.WriteLine($"abilisfast: no users in {UserStore.PathIn(Path.GetFullPath(workDir))}");
            return ExitCodes.Ok;
        }

        int width = Math.Max(4, all.Max(u => u.Name.Length));
        output.WriteLine($"{"NAME".PadRight(width)}  RIGHTS  MAILBOX");
        foreach ((string userName, UserRights userRights) in all.OrderBy(u => u.Name, StringComparer.OrdinalIgnoreCase))
        {
            string mailbox = userRights == UserRights.Mail ? Recipients.MailboxFolder.ForUser(userName) : "-";
            output.WriteLine($"{userName.PadRight(width)}  {UserStore.RightsName(userRights),-6}  {mailbox}");
        }

        return ExitCodes.Ok;
    }

    private static int Delete(string workDir, string name, TextWriter output, TextWriter error)
    {
        try
        {
            UserStore users = UserStore.Load(workDir);
            UserRights? rights = users.RightsOf(name);
            if (rights is null)
            {
                error.WriteLine($"abilisfast: no user '{name}' in {UserStore.PathIn(Path.GetFullPath(workDir))}");
                return ExitCodes.Usage;
            }

            users.Delete(name);
            bool lastAdmin = rights >= UserRights.Admin && !users.HasAdmin;
            output.WriteLine($"abilisfast: user '{name}' deleted from {UserStore.PathIn(Path.GetFullPath(workDir))}"
                + (lastAdmin ? $"; no user has admin rights now: the next start creates one and writes its password to {InitialAdminPassword.PathIn(workDir)}" : string.Empty));
            ForgetInitialPassword(workDir, name, output);
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            error.WriteLine($"abilisfast: cannot update {UserStore.PathIn(workDir)}: {e.Message}");
            return ExitCodes.WorkDirUnusable;
        }
    }

    /// <summary>The first-start password of a user just changed or deleted no longer counts: its file goes.</summary>
    private static void ForgetInitialPassword(string workDir, string name, TextWriter output)
    {
        if (InitialAdminPassword.Forget(workDir, name) is { } line)
        {
            output.WriteLine($"abilisfast: {line}");
        }
    }
}
