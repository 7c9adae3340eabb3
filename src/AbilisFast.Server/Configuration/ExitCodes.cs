namespace AbilisFast.Server.Configuration;

/// <summary>Exit codes of the executable and of its commands (documented in docs/operations.md).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Usage = 2;
    public const int PortInUse = 3;
    public const int WorkDirUnusable = 4;
}
