namespace AbilisFast.Server.Submission;

/// <summary>
/// Where <c>sendmail</c> finds WDIR when it is not given with <c>--wdir DIR</c>: the server's
/// configuration file first (<c>--config FILE</c> or <c>-C FILE</c>, else <c>$ABILISFAST_CONFIG</c>,
/// else the packaged <c>/etc/abilisfast/abilisfast.conf</c> when it exists) and its WDIR, then
/// <c>$ABILISFAST_WDIR</c>, then the packaged default <c>/var/lib/abilisfast</c> (the WDIR of
/// deploy/abilisfast.service). The first that says something wins. The packaged file, when it is
/// found rather than named and this user may not read it, is passed over.
/// </summary>
internal static class SendmailWorkDir
{
    public const string ConfigVariable = "ABILISFAST_CONFIG";
    public const string WorkDirVariable = "ABILISFAST_WDIR";
    public const string PackagedConfig = "/etc/abilisfast/abilisfast.conf";
    public const string PackagedWorkDir = "/var/lib/abilisfast";

    /// <summary>
    /// WDIR (a full path) and where it came from; throws <see cref="ConfigurationException"/> when a
    /// configuration file named or found cannot be read.
    /// </summary>
    public static (string WorkDir, string Source) Find(string? wdirOption, string? configOption,
        Func<string, string?> environment, Func<string, bool> fileExists)
    {
        if (!string.IsNullOrEmpty(wdirOption))
        {
            return (Path.GetFullPath(wdirOption), "--wdir");
        }

        string? config = NonEmpty(configOption) ?? NonEmpty(environment(ConfigVariable)) ?? (fileExists(PackagedConfig) ? PackagedConfig : null);
        if (config is not null)
        {
            var store = new ParameterStore();
            try
            {
                ConfigFileReader.Apply(store, config);
            }
            catch (ConfigurationException e) when (e.InnerException is UnauthorizedAccessException && config == PackagedConfig && configOption is null)
            {
                // Found, not named: the packaged file is 0640 root:abilisfast, unreadable to most users.
                store = new ParameterStore();
            }

            if (store.GetSource(ParameterNames.WDir) != ParameterStore.DefaultSource)
            {
                return (Path.GetFullPath(store.GetValue(ParameterNames.WDir)), $"WDIR in {config}");
            }
        }

        if (NonEmpty(environment(WorkDirVariable)) is { } fromEnvironment)
        {
            return (Path.GetFullPath(fromEnvironment), "$" + WorkDirVariable);
        }

        return (PackagedWorkDir, "the packaged default");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
