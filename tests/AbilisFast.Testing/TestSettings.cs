namespace AbilisFast.Server.Tests.Support;

/// <summary>Settings built exactly as the command line builds them.</summary>
internal static class TestSettings
{
    public static SmtpSettings Create(params string[] parameters) => ConfigurationLoader.Load(CommandLine.Parse(parameters));
}
