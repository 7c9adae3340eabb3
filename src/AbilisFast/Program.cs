using System.Reflection;
using System.Runtime.InteropServices;
using AbilisFast.Server;
using AbilisFast.Server.Admin;
using AbilisFast.Server.Configuration;
using AbilisFast.Server.Service;

namespace AbilisFast;

internal static class Program
{
    /// <summary>
    /// Socket completions run on the socket engine's own thread (one per core) instead of being
    /// handed to a thread-pool worker: a command line is parsed and answered where its bytes
    /// arrived, like an event loop, without a context switch per read (perf had 27% of the server's
    /// samples in finish_task_switch; inline, sink-mode CPU per message fell from 45 to 27 µs).
    /// Everything that may block (file syncs in delivery,
    /// console commands, password hashing) is moved to the thread pool explicitly. The runtime reads
    /// the switch once, when the first socket operation starts; setting the variable to 0 turns it off.
    /// </summary>
    private const string InlineSocketCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    private static async Task<int> Main(string[] args)
    {
        if (Environment.GetEnvironmentVariable(InlineSocketCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineSocketCompletions, "1");
        }

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

            if (commandLine.Subcommand == "dkim")
            {
                return AbilisFast.Server.Signing.DkimCommand.Run(commandLine.SubcommandArgs, Console.Out, Console.Error);
            }

            if (commandLine.Subcommand == "sendmail")
            {
                using Stream input = Console.OpenStandardInput();
                return AbilisFast.Server.Submission.SendmailCommand.Run(commandLine.SubcommandArgs, input, Console.Out, Console.Error);
            }

            if (commandLine.Subcommand is { } sub)
            {
                Console.Error.WriteLine($"abilisfast: unknown command '{sub}' (see --help)");
                return ExitCodes.Usage;
            }

            if (commandLine.CheckConfig)
            {
                return ConfigurationCheck.Run(commandLine, Console.Out, Console.Error);
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
        using var reloads = new SemaphoreSlim(0);
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using PosixSignalRegistration hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Reload);
        using SystemdNotifier? notifier = SystemdNotifier.FromEnvironment();
        var configuration = new LiveConfiguration(store, commandLine);
        var service = new ServiceOptions { Notifier = notifier, Reloads = reloads };
        return await ServerHost.RunAsync(settings, Console.Error, stop.Token, configuration, service).ConfigureAwait(false);

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        void Reload(PosixSignalContext context)
        {
            context.Cancel = true;
            reloads.Release();
        }
    }
}
