using System.Reflection;
using System.Runtime.InteropServices;
using AbilisFast.Server;
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
        ParameterStore store;
        try
        {
            commandLine = CommandLine.Parse(args, CommandLine.ProgramName());
            string version = $"abilisfast {typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0"}";
            if (await Subcommands.RunAsync(commandLine, version, Console.In, Console.OpenStandardInput, Console.Out, Console.Error).ConfigureAwait(false) is int exit)
            {
                return exit;
            }

            store = ConfigurationLoader.LoadStore(commandLine);
        }
        catch (ConfigurationException e)
        {
            Console.Error.WriteLine($"abilisfast: {e.Message}");
            return ExitCodes.Usage;
        }

        return await RunServerAsync(store, commandLine).ConfigureAwait(false);
    }

    /// <summary>Runs the server until SIGTERM or SIGINT; SIGHUP reloads the configuration.</summary>
    private static async Task<int> RunServerAsync(ParameterStore store, CommandLineResult commandLine)
    {
        SmtpSettings settings;
        try
        {
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
        return await ServerHost.RunAsync(settings, Console.Error, configuration, service, stop.Token).ConfigureAwait(false);

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
