namespace AbilisFast.Server.Configuration;

/// <summary>A configuration error; <see cref="Exception.Message"/> is the one line to print.</summary>
internal sealed class ConfigurationException : Exception
{
    public ConfigurationException(string message)
        : base(message)
    {
    }

    public ConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ConfigurationException()
    {
    }
}
