namespace AbilisFast.Server.Tests.Configuration;

public sealed class AllocationTests
{
    private const int Iterations = 10_000;

    [Fact]
    public void IpNetworkContainsDoesNotAllocate()
    {
        IpNetwork v4 = IpNetwork.Parse("172.16/12");
        IpNetwork v6 = IpNetwork.Parse("2001:db8::/32");
        IPAddress a4 = IPAddress.Parse("172.17.0.1");
        IPAddress a6 = IPAddress.Parse("2001:db8::1");
        IPAddress mapped = IPAddress.Parse("::ffff:172.17.0.1");
        IpAccessList list = NamedIpLists.BuiltInPrivate;

        long allocated = Allocations.InSteadyState(Iterations, () => Run(v4, v6, a4, a6, mapped, list), out long hits);
        Assert.Equal(0, allocated);
        Assert.Equal(((3 * Iterations) + 100) * 5, hits);

        static int Run(IpNetwork v4, IpNetwork v6, IPAddress a4, IPAddress a6, IPAddress mapped, IpAccessList list) =>
            (v4.Contains(a4) ? 1 : 0) + (v6.Contains(a6) ? 1 : 0) + (v4.Contains(mapped) ? 1 : 0)
            + (v4.Contains(a6) ? 0 : 1) + (list.Contains(mapped) ? 1 : 0);
    }

    [Fact]
    public void IsLocalDomainDoesNotAllocate()
    {
        SmtpSettings settings = SmtpSettings.Default with { LocalDomains = ["example.com", "mail.example.org"] };
        byte[] hit = Encoding.ASCII.GetBytes("MAIL.Example.ORG.");
        byte[] miss = Encoding.ASCII.GetBytes("evil-example.com");

        long allocated = Allocations.InSteadyState(Iterations, () => Run(settings, hit, miss), out long hits);
        Assert.Equal(0, allocated);
        Assert.Equal((3 * Iterations) + 100, hits);

        static int Run(SmtpSettings s, byte[] hit, byte[] miss) =>
            (s.IsLocalDomain(hit) ? 1 : 0) + (s.IsLocalDomain(miss) ? 1 : 0) + (s.IsLocalDomain("example.com"u8) ? 1 : 0) - 1;
    }
}
