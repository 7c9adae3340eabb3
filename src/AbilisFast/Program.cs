using System.Reflection;
using System.Runtime.InteropServices;
using AbilisFast.Server;
using AbilisFast.Server.Admin;
using AbilisFast.Server.Configuration;

namespace AbilisFast;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        CommandLineResult commandLine;
        SmtpSettings settings;
        ParameterStore store;
        try
        {
            commandLine = CommandLine.Parse(args);
            if (commandLine.Help)
            {
                Console.Out.Write(HelpText.Build());
                return ExitCodes.Ok;
            }

            if (commandLine.Version)
            {
                Console.Out.WriteLine($"abilisfast {typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0"}");
                return ExitCodes.Ok;
            }

            if (commandLine.SampleConfig)
            {
                Console.Out.Write(SampleConfig.Build());
                return ExitCodes.Ok;
            }

            if (commandLine.Subcommand == "user")
            {
                return UserCommand.Run(commandLine.SubcommandArgs, Console.In, Console.Out, Console.Error);
            }

            if (commandLine.Subcommand == "ctl")
            {
                return await ControlCommand.RunAsync(commandLine.SubcommandArgs, Console.In, Console.Out, Console.Error).ConfigureAwait(false);
            }

            if (commandLine.Subcommand == "sendmail")
            {
                using Stream input = Console.OpenStandardInput();
                return AbilisFast.Server.Delivery.SendmailCommand.Run(commandLine.SubcommandArgs, input, Console.Out, Console.Error);
            }

            if (commandLine.Subcommand is { } sub)
            {
                Console.Error.WriteLine($"abilisfast: unknown command '{sub}' (see --help)");
                return ExitCodes.Usage;
            }

            store = ConfigurationLoader.LoadStore(commandLine);
            settings = store.ToSettings();
        }
        catch (ConfigurationException e)
        {
            Console.Error.WriteLine($"abilisfast: {e.Message}");
            return ExitCodes.Usage;
        }

        using var stop = new CancellationTokenSource();
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        var configuration = new LiveConfiguration(store, commandLine.ConfigPath);
        return await ServerHost.RunAsync(settings, Console.Error, stop.Token, configuration).ConfigureAwait(false);

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }
}
