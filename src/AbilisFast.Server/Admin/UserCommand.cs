using AbilisFast.Server.Access;
using AbilisFast.Server.Configuration;

namespace AbilisFast.Server.Admin;

/// <summary>
/// <c>abilisfast user NAME --rights user|admin|super|mail [--wdir DIR]</c>: creates or changes a user,
/// reading the password from standard input (one line). Works whether the server runs or not; a
/// running server picks the change up at its next start.
/// </summary>
internal static class UserCommand
{
    public const string Usage = "usage: abilisfast user NAME --rights user|admin|super|mail [--wdir DIR]  (password on standard input)";

    private static readonly ArgumentGrammar Grammar = new ArgumentGrammar { MaxPositionals = 1 }
        .Option("--rights", ValueForms.EmptyAllowed)
        .Option("--wdir", ValueForms.EmptyAllowed);

    public static int Run(IReadOnlyList<string> args, TextReader input, TextWriter output, TextWriter error)
    {
        ParsedArguments parsed = Grammar.Parse(args);
        if (parsed.Error is { } bad)
        {
            error.WriteLine($"abilisfast: unexpected argument '{bad.Argument}'; {Usage}");
            return ExitCodes.Usage;
        }

        string? name = parsed.Positionals.Count > 0 ? parsed.Positionals[0].Text : null;
        string? rightsText = parsed.Value("--rights");
        string workDir = parsed.Value("--wdir") ?? ParameterTable.DefaultWorkDir;
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
        return ExitCodes.Ok;
    }
}
