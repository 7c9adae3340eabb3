using AbilisFast.Server.Admin;
using AbilisFast.Server.Signing;
using AbilisFast.Server.Spool;
using AbilisFast.Server.Submission;

namespace AbilisFast.Server;

/// <summary>
/// Every form of the <c>abilisfast</c> command line that is not "run the server": <c>--help</c>,
/// <c>--version</c>, <c>--sample-config</c>, <c>--check-config</c> and the subcommands (<c>user</c>,
/// <c>ctl</c>, <c>sendmail</c>, <c>dkim keygen</c>), each parsed by <see cref="ArgumentGrammar"/>. The help text lists the
/// subcommands from the same table that runs them.
/// </summary>
internal static class Subcommands
{
    /// <summary>The subcommands: name and usage line (each command's own).</summary>
    public static IReadOnlyList<(string Name, string Usage)> All { get; } =
    [
        ("user", UserCommand.Usage),
        ("ctl", ControlCommand.Usage),
        ("sendmail", SendmailCommand.Usage),
        ("dkim", DkimCommand.Usage),
    ];

    /// <summary>The text of <c>abilisfast --help</c>.</summary>
    public static string Help() => HelpText.Build(All);

    /// <summary>What <c>--version</c> prints: <paramref name="version"/>, and how this process computes the spool's CRC-32C.</summary>
    public static string VersionText(string version) =>
        $"{version}{Environment.NewLine}spool CRC-32C: {Crc32C.Method}{Environment.NewLine}";

    /// <summary>
    /// Runs what <paramref name="commandLine"/> asks for when it is not the server; its exit code, or
    /// null when the server is to run. <paramref name="version"/> is what <c>--version</c> prints.
    /// </summary>
    public static async Task<int?> RunAsync(CommandLineResult commandLine, string version, TextReader input, Func<Stream> openInput,
        TextWriter output, TextWriter error)
    {
        if (commandLine.Help || commandLine.Version || commandLine.SampleConfig)
        {
            output.Write(commandLine.Help ? Help() : commandLine.Version ? VersionText(version) : SampleConfig.Build());
            return ExitCodes.Ok;
        }

        switch (commandLine.Subcommand)
        {
            case null:
                return commandLine.CheckConfig ? ConfigurationCheck.Run(commandLine, output, error) : null;
            case "user":
                return UserCommand.Run(commandLine.SubcommandArgs, input, output, error);
            case "ctl":
                return await ControlCommand.RunAsync(commandLine.SubcommandArgs, input, output, error).ConfigureAwait(false);
            case "dkim":
                return DkimCommand.Run(commandLine.SubcommandArgs, output, error);
            case "sendmail":
                using (Stream stream = openInput())
                {
                    return SendmailCommand.Run(commandLine.SubcommandArgs, stream, output, error);
                }

            default:
                error.WriteLine($"abilisfast: unknown command '{commandLine.Subcommand}' (see --help)");
                return ExitCodes.Usage;
        }
    }
}
