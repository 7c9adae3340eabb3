namespace AbilisFast.Server.Tests.Hostile;

/// <summary>
/// MAX-IP-SES used to count single IPv6 addresses, so a client holding a /64 had no practical limit.
/// The real executable runs in a network namespace of its own (unshare -n, as root) whose loopback
/// carries documentation addresses of two /64 networks; python3 connects from each of them.
/// </summary>
[Collection("EndToEnd")]
public sealed class Ipv6PrefixTests
{
    private const string Script = """
import os, socket, subprocess, sys, time
exe, wdir, port, extra = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
def ip(*a): subprocess.run(["ip", *a], check=True)
ip("link", "set", "lo", "up")
for a in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3", "2001:db8:1:2::4", "2001:db8:1:3::1"]:
    ip("-6", "addr", "add", a + "/64", "dev", "lo", "nodad")
conf = os.path.join(wdir, "lab.conf")
with open(conf, "w") as f:
    f.write("iplist Lab: 2001:db8::/32\nIPSRCLIST:Lab\n")
server = subprocess.Popen([exe, "--wdir", os.path.join(wdir, "data"), "--config", conf, "TCP-LOCPORT:%d" % port,
                           "ADMIN-ADDR:#", "LOCAL-DOMAIN:local.test", *extra],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
try:
    deadline = time.time() + 30
    for line in server.stderr:
        if "listening on port" in line or time.time() > deadline:
            break
    held = []
    for source in ["2001:db8:1:2::2", "2001:db8:1:2::3", "2001:db8:1:2::4", "2001:db8:1:3::1"]:
        s = socket.socket(socket.AF_INET6)
        s.settimeout(20)
        s.bind((source, 0))
        s.connect(("2001:db8:1:2::1", port))
        greeting = s.recv(200).decode().strip()
        print(source, greeting, flush=True)
        held.append(s)
finally:
    server.kill()
    server.wait()
""";

    private static async Task<string> RunAsync(params string[] extra)
    {
        string dir = ServerProcess.NewWorkDir();
        try
        {
            var (exit, output) = await Tool.RunAsync("unshare", ["-n", "python3", "-c", Script, ServerProcess.ExecutablePath, dir, "2525", .. extra], timeout: TimeSpan.FromSeconds(90));
            Assert.True(exit == 0, output);
            return output;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [NetnsFact]
    public async Task AThirdAddressOfTheSameSlash64IsRefusedAtMaxIpSesTwo()
    {
        string output = await RunAsync();
        Assert.Contains("2001:db8:1:2::2 220 ", output);
        Assert.Contains("2001:db8:1:2::3 220 ", output);
        Assert.Contains("2001:db8:1:2::4 421 4.7.0 Error: too many connections from your address", output);

        // Another /64 has places of its own.
        Assert.Contains("2001:db8:1:3::1 220 ", output);
    }

    [NetnsFact]
    public async Task Ipv6PrefixSes128CountsEachAddress()
    {
        string output = await RunAsync("IPV6-PREFIX-SES:128");
        Assert.Contains("2001:db8:1:2::4 220 ", output);
        Assert.DoesNotContain("421", output, StringComparison.Ordinal);
    }
}

/// <summary>
/// A fact that needs a network namespace of its own (root, <c>unshare</c> and <c>ip</c>): checked
/// when the tests are discovered, reported skipped with the reason elsewhere; CI runs as root.
/// </summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute()
    {
        if (Environment.UserName != "root")
        {
            Skip = $"needs root for a network namespace (running as {Environment.UserName}); CI runs the tests as root";
        }
        else if (!File.Exists("/usr/bin/unshare") || !(File.Exists("/usr/sbin/ip") || File.Exists("/sbin/ip") || File.Exists("/usr/bin/ip")))
        {
            Skip = "needs unshare and ip (apt-get install util-linux iproute2; tools/test.sh does)";
        }
    }
}
