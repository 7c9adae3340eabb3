namespace AbilisFast.Server.Tests.Service;

/// <summary>
/// Tests that measure a whole server process (its write counters): never run beside the other
/// tests of this assembly. (The loopback tests have their own, for the live bytes of their host.)
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FootprintCollection
{
    public const string Name = "Process-wide measurements, run alone";
}
