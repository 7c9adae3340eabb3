using System.Text;

namespace AbilisFast.Server.Configuration;

/// <summary>Text for --help and --version, generated from <see cref="ParameterTable"/>.</summary>
internal static class HelpText
{
    public const string Usage = "usage: abilisfast [--config FILE] [--wdir DIR] [NAME:VALUE ...]";

    public static string Version =>
        "abilisfast " + (typeof(HelpText).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

    public static string Build() => Build([]);

    /// <summary>The help text; <paramref name="commands"/> are the subcommands (name, usage line) it lists.</summary>
    public static string Build(IReadOnlyList<(string Name, string Usage)> commands)
    {
        var text = new StringBuilder();
        text.AppendLine(Usage);
        text.AppendLine("       abilisfast --check-config [--config FILE] [--wdir DIR] [NAME:VALUE ...]");
        text.AppendLine("       abilisfast --help | --version | --sample-config");
        text.AppendLine("       abilisfast COMMAND ARGS...");
        text.AppendLine();
        text.AppendLine("  --config FILE   read NAME:VALUE lines, 'iplist NAME: net, ...' lines and");
        text.AppendLine("                  'ipban NAME:VALUE ...' lines (IPBAN parameters) from FILE");
        text.AppendLine("  --wdir DIR      working directory (same as WDIR:DIR)");
        text.AppendLine("  --check-config  validate the configuration and WDIR, start nothing (exit 0: OK)");
        text.AppendLine("  NAME:VALUE      set a parameter; overrides the file; names are case-insensitive");
        text.AppendLine("  IPBAN:NAME:VALUE  set an IPBAN parameter; overrides the file");
        text.AppendLine("  --sample-config print a configuration file that documents every parameter");
        text.AppendLine();
        AppendCommands(text, commands);
        text.AppendLine("Parameters (default; allowed; * = takes effect after a restart):");
        int width = ParameterTable.All.Max(d => d.Name.Length);
        foreach (ParameterDefinition d in ParameterTable.All)
        {
            string value = d.DefaultText.Length == 0 ? "(empty)" : d.DefaultText;
            text.Append("  ").Append(d.Name.PadRight(width)).Append(d.RequiresRestart ? " * " : "   ")
                .Append(value).Append("; ").Append(d.Allowed).AppendLine();
            text.Append("  ").Append(' ', width + 3).AppendLine(d.Meaning);
        }

        text.AppendLine();
        text.AppendLine("IPBAN parameters (default; allowed):");
        text.AppendLine("  MAX-FAIL    10; 1..1000 failed console logins within FIND-TIME trigger ACTION");
        text.AppendLine("  FIND-TIME   1440; 1..525600 minutes");
        text.AppendLine("  BAN-TIME    10080; 1..5256000 minutes");
        text.AppendLine("  WHITE-LIST  PrivateIpAdd; nets and IP list names separated by commas, or # (none)");
        text.AppendLine("  ACTION      BAN; BAN, MAIL (alert mail) or BOTH");
        text.AppendLine("  ALERT-TO    postmaster; mail addresses separated by commas (recipients of the alert mail)");
        text.AppendLine();
        text.AppendLine("Built-in IP list PrivateIpAdd: 10/8, 172.16/12, 192.168/16, 127/8, ::1/128.");
        return text.ToString();
    }

    /// <summary>
    /// One line a subcommand: two spaces, its name, then its arguments; a usage of several lines
    /// (several forms of one command) gives one line per form, aligned under the first.
    /// </summary>
    private static void AppendCommands(StringBuilder text, IReadOnlyList<(string Name, string Usage)> commands)
    {
        if (commands.Count == 0)
        {
            return;
        }

        text.AppendLine("Commands:");
        int width = commands.Max(c => c.Name.Length);
        foreach ((string name, string usage) in commands)
        {
            string prefix = "usage: abilisfast " + name + " ";
            string[] forms = usage.Split('\n');
            for (int i = 0; i < forms.Length; i++)
            {
                string form = i == 0 ? forms[i] : forms[i].TrimStart();
                string formPrefix = i == 0 ? prefix : "abilisfast " + name + " ";
                string arguments = form.StartsWith(formPrefix, StringComparison.Ordinal) ? form[formPrefix.Length..] : form;
                text.Append("  ").Append(i == 0 ? name.PadRight(width) : new string(' ', width)).Append("  ").AppendLine(arguments);
            }
        }

        text.AppendLine();
    }
}
