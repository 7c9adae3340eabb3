using System.Runtime.InteropServices;

namespace AbilisFast.Server;

/// <summary>
/// <c>abilisfast --check-config</c>: everything a start checks before it binds a port, without
/// starting: the file and command line (the same one-line errors, exit 2), and whether WDIR is a
/// folder this user can write, or could create (exit 4), and WDIR/users and WDIR/aliases (a damaged
/// file or an alias loop: exit 2, with FILE:LINE). Creates and binds nothing. Run it before
/// a reload (<c>systemctl reload</c>) or in <c>ExecStartPre=</c>.
/// </summary>
internal static partial class ConfigurationCheck
{
    private const int WriteOk = 2;
    private const int ExecuteOk = 1;

    public static int Run(CommandLineResult commandLine, TextWriter output, TextWriter error)
    {
        SmtpSettings settings;
        try
        {
            settings = ConfigurationLoader.LoadStore(commandLine).ToSettings();
        }
        catch (ConfigurationException e)
        {
            error.WriteLine($"abilisfast: {e.Message}");
            return ExitCodes.Usage;
        }

        if (!TryCheckWorkDir(settings.WorkDir, out string problem))
        {
            error.WriteLine($"abilisfast: WDIR {settings.WorkDir} is not usable ({problem}); make it a writable folder for this user or set --wdir DIR");
            return ExitCodes.WorkDirUnusable;
        }

        if (settings.TlsCertPath is not null || settings.TlsKeyPath is not null)
        {
            // The configured certificate is read as a start reads it (nothing is created: only the
            // self-signed default writes files, and it is not checked here).
            try
            {
                _ = Transport.ServerTls.Load(settings, TimeProvider.System);
            }
            catch (ConfigurationException e)
            {
                error.WriteLine($"abilisfast: {e.Message}");
                return ExitCodes.Usage;
            }
        }

        try
        {
            // Every DKIM key is read as a start reads it (DKIM-DOMAIN set): a missing or unusable file stops here.
            Signing.DkimSigner.CheckKeys(settings);
        }
        catch (ConfigurationException e)
        {
            error.WriteLine($"abilisfast: {e.Message}");
            return ExitCodes.Usage;
        }

        if (ServerHost.MetricsAddressWarning(settings) is { } warning)
        {
            error.WriteLine(warning);
        }

        if (CheckRecipients(settings, output, error) is not { } recipients)
        {
            return ExitCodes.Usage;
        }

        string admin = settings.AdminAddress is null ? "no admin port" : $"admin port {settings.AdminAddress}:{settings.AdminPort}";
        string source = commandLine.ConfigPath is { } path ? path : "no --config file";
        output.WriteLine($"abilisfast: configuration OK ({source}; SMTP port {settings.TcpLocPort}, {admin}, WDIR {settings.WorkDir}{(settings.Log ? ", LOG:YES" : string.Empty)}; {recipients}{Dkim(settings)})");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// WDIR/users and WDIR/aliases as a start reads them: a damaged file, an alias loop or a program
    /// target is an error here (null, the line written; a running server would keep what it had);
    /// skipped targets are warnings. Returns what is in force.
    /// </summary>
    private static string? CheckRecipients(SmtpSettings settings, TextWriter output, TextWriter error)
    {
        try
        {
            AbilisFast.Server.Access.UserStore users = AbilisFast.Server.Access.UserStore.Load(settings.WorkDir);
            Recipients.AliasFile aliases = Recipients.AliasFile.Load(Recipients.AliasFile.PathIn(settings.WorkDir));
            Recipients.RecipientTable table = Recipients.RecipientTable.Build(users, aliases, settings);
            foreach (string skipped in table.Warnings)
            {
                output.WriteLine($"abilisfast: aliases: {skipped}");
            }

            return $"{table.UserCount} mail user(s), {table.AliasCount} alias(es), {table.CatchAllCount} catch-all(s)";
        }
        catch (Recipients.AliasFileException e)
        {
            error.WriteLine($"abilisfast: aliases: {e.Message}");
            return null;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"abilisfast: users or aliases cannot be read: {e.Message}");
            return null;
        }
    }

    private static string Dkim(SmtpSettings settings) => settings.DkimDomains.Count == 0
        ? string.Empty
        : $", DKIM for {string.Join(',', settings.DkimDomains)} with selector(s) {string.Join(',', settings.DkimSelectors)}";

    /// <summary>
    /// WDIR is an existing folder this user may write, or the nearest existing parent is one (so a
    /// start can create it). access(2) answers for this user, read-only mounts included.
    /// </summary>
    internal static bool TryCheckWorkDir(string workDir, out string problem)
    {
        if (File.Exists(workDir))
        {
            problem = "it is a file, not a folder";
            return false;
        }

        if (Directory.Exists(workDir))
        {
            return Writable(workDir, "it is not writable by this user", out problem);
        }

        string? parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(workDir));
        while (parent is not null && !Directory.Exists(parent))
        {
            if (File.Exists(parent))
            {
                problem = $"{parent} is a file, not a folder";
                return false;
            }

            parent = Path.GetDirectoryName(parent);
        }

        if (parent is null)
        {
            problem = "no existing parent folder";
            return false;
        }

        return Writable(parent, $"it does not exist and {parent} is not writable by this user", out problem);
    }

    private static bool Writable(string directory, string reason, out string problem)
    {
        if (Access(directory, WriteOk | ExecuteOk) == 0)
        {
            problem = string.Empty;
            return true;
        }

        int errno = Marshal.GetLastPInvokeError();
        problem = errno == 30 ? $"{directory} is on a read-only file system" : reason;
        return false;
    }

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Access(string path, int mode);
}
