namespace AbilisFast.Server.Configuration;

/// <summary>
/// Builds the configuration. Precedence, lowest first: built-in defaults, the --config file,
/// then the command line in its own order (--wdir and NAME:VALUE; the later one wins).
/// Without --config no file is read: the defaults alone make a working server.
/// </summary>
internal static class ConfigurationLoader
{
    public static SmtpSettings Load(CommandLineResult commandLine, string? currentDirectory = null) =>
        LoadStore(commandLine).ToSettings(currentDirectory);

    /// <summary>The parameter store after file and command line, for the admin console to keep.</summary>
    public static ParameterStore LoadStore(CommandLineResult commandLine)
    {
        var store = new ParameterStore();
        if (commandLine.ConfigPath is { } path)
        {
            if (!File.Exists(path))
            {
                string prefix = commandLine.ConfigSource is { } s ? s + ": " : string.Empty;
                throw new ConfigurationException($"{prefix}--config {path}: no such file");
            }

            ConfigFileReader.Apply(store, path);
        }

        foreach (ParameterOverride item in commandLine.Overrides)
        {
            if (!store.TrySetForThisRun(item.Name, item.Value, item.Source, out string error))
            {
                throw new ConfigurationException(error);
            }
        }

        return store;
    }
}
