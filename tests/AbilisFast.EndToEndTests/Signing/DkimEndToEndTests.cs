namespace AbilisFast.Server.Tests.Signing;

/// <summary>
/// DKIM signatures made by the real executable, checked by an independent verifier: dkimverify
/// (dkimpy, Debian python3-dkim, PyNaCl for Ed25519) on the exact bytes the next hop received, with
/// the public keys that <c>abilisfast dkim keygen</c> printed served as TXT records by dnsmasq on
/// loopback (dnspython's resolver is pointed at it; the system resolver is never asked).
/// </summary>
[Collection("EndToEnd")]
public sealed partial class DkimEndToEndTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>dkimverify's own main(), with dnspython's default resolver replaced by one that asks dnsmasq only.</summary>
    private const string Verify = """
        import io, sys, dns.resolver
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = ['127.0.0.1']
        r.port = int(sys.argv[1])
        dns.resolver.default_resolver = r
        sys.stdin = io.TextIOWrapper(open(sys.argv[2], 'rb'))
        sys.argv = ['dkimverify', '--index', sys.argv[3]]
        from dkim.dkimverify import main
        main()
        """;

    /// <summary>An SMTP server that takes every message and keeps its text exactly as sent (dot-unstuffed).</summary>
    private sealed class CapturingPeer : IAsyncDisposable
    {
        private readonly ScriptedSmtpPeer _peer;

        public CapturingPeer() => _peer = new ScriptedSmtpPeer(4, Serve);

        public int Port => _peer.EndPoint.Port;

        public List<byte[]> Messages { get; } = [];

        private async Task Serve(ScriptedSmtpPeer peer)
        {
            await peer.SendAsync("220 capture.test ESMTP\r\n");
            while (await peer.ReadLineAsync() is { } line)
            {
                string verb = line.Length >= 4 ? line[..4].ToUpperInvariant() : line;
                switch (verb)
                {
                    case "EHLO":
                        await peer.SendAsync("250-capture.test\r\n250-8BITMIME\r\n250 PIPELINING\r\n");
                        break;
                    case "DATA":
                        await peer.SendAsync("354 go ahead\r\n");
                        string text = await peer.ReadDataAsync();
                        var unstuffed = new StringBuilder();
                        foreach (string l in text.Split("\r\n")[..^2])
                        {
                            unstuffed.Append(l.StartsWith('.') ? l[1..] : l).Append("\r\n");
                        }

                        lock (Messages)
                        {
                            Messages.Add(Encoding.Latin1.GetBytes(unstuffed.ToString()));
                        }

                        await peer.SendAsync("250 2.0.0 kept\r\n");
                        break;
                    case "QUIT":
                        await peer.SendAsync("221 bye\r\n");
                        return;
                    default:
                        await peer.SendAsync("250 ok\r\n");
                        break;
                }
            }
        }

        public byte[] WaitFor(int count) => Eventually.WaitAsync(() =>
        {
            lock (Messages)
            {
                return Messages.Count >= count ? Messages[count - 1] : null;
            }
        }, $"message {count} at the next hop", Wait).GetAwaiter().GetResult();

        public ValueTask DisposeAsync() => _peer.DisposeAsync();
    }

    /// <summary>Runs <c>abilisfast dkim keygen</c>; returns the TXT record's name and text, read from what it printed.</summary>
    private static async Task<(string Name, string Text)> KeygenAsync(string workDir, string selector, string type)
    {
        var (exit, output) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["dkim", "keygen", "--selector", selector, "--domain", "sign.test", "--wdir", workDir, "--type", type]);
        Assert.True(exit == 0, output);
        string key = Path.Combine(workDir, "dkim", selector + ".key");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        }

        Match record = ZoneRecord().Match(output);
        Assert.True(record.Success, output);
        string text = string.Concat(Regex.Matches(record.Groups[2].Value, "\"([^\"]*)\"").Select(m => m.Groups[1].Value));
        Assert.All(Regex.Matches(record.Groups[2].Value, "\"([^\"]*)\""), m => Assert.True(m.Groups[1].Length <= 255));
        return (record.Groups[1].Value.TrimEnd('.'), text);
    }

    /// <summary>dnsmasq's --txt-record with the text in strings of at most 250 characters.</summary>
    private static string TxtRecord(string name, string text) =>
        $"--txt-record={name}," + string.Join(',', text.Chunk(250).Select(c => new string(c)));

    private static async Task<string> DkimVerifyAsync(Dnsmasq dns, byte[] message, int index)
    {
        string file = Path.Combine(Path.GetTempPath(), "abilisfast-dkim-" + Guid.NewGuid().ToString("N")[..12] + ".eml");
        await File.WriteAllBytesAsync(file, message);
        try
        {
            var (exit, output) = await Tool.RunAsync("/usr/bin/python3", ["-c", Verify, dns.EndPoint.Port.ToString(CultureInfo.InvariantCulture), file, index.ToString(CultureInfo.InvariantCulture)]);
            Assert.True((exit == 0) == (output.Trim() == "signature ok"), $"dkimverify exit {exit}: {output}");
            return exit == 0 ? output.Trim() : "failed: " + output.Trim();
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task SwaksAsync(int port, string from, string to, string data)
    {
        var (exit, output) = await Tool.RunAsync("swaks", ["--server", $"127.0.0.1:{port}", "--from", from, "--to", to, "--data", "-", "--helo", "client.test"], stdin: data);
        Assert.True(exit == 0, output);
    }

    /// <summary>Text that canonicalisation must get exactly right: folded and spaced headers, dot lines, trailing blanks, 8-bit.</summary>
    private const string Tricky =
        "From: \"Signer, The\" <me@Sign.Test>\r\n" +
        "To: user@dest.test\r\n" +
        "Subject:   spaced    out  \r\n\tand folded\r\n" +
        "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n" +
        "Message-ID: <dkim-1@sign.test>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "Content-Transfer-Encoding: 8bit\r\n" +
        "X-Not-Signed: anything\r\n" +
        "\r\n" +
        "  leading\tand  inner   space  \r\n" +
        ".a line that starts with a dot\r\n" +
        "..two dots\r\n" +
        "na\u00efve 8-bit text\r\n" +
        "\t\r\n";

    [Fact]
    public async Task MailLeavingByMxAndBySmtpServerCarriesSignaturesThatDkimverifyAccepts()
    {
        string workDir = ServerProcess.NewWorkDir();
        string data = Path.Combine(workDir, "data");
        (string rsaName, string rsaText) = await KeygenAsync(data, "s1", "rsa");
        (string edName, string edText) = await KeygenAsync(data, "e1", "ed25519");
        Assert.Equal("s1._domainkey.sign.test", rsaName);
        Assert.StartsWith("v=DKIM1; k=rsa; p=", rsaText, StringComparison.Ordinal);
        Assert.StartsWith("v=DKIM1; k=ed25519; p=", edText, StringComparison.Ordinal);

        await using var mx = new CapturingPeer();
        using Dnsmasq dns = await Dnsmasq.StartAsync(
            [
                Dnsmasq.MxHost("dest.test", "mx.dest.test", 10),
                Dnsmasq.HostRecord("mx.dest.test", "127.0.0.1"),
                TxtRecord(rsaName, rsaText),
                TxtRecord(edName, edText),
            ],
            "test");

        // By MX: two selectors, so two signatures (RSA and Ed25519) on one message.
        using (ServerProcess byMx = await ServerProcess.StartAsync(workDir, null, parameters:
        [
            "RELAY-NET:127/8", "MX-TLS:NONE", $"DNS:{dns.EndPoint}", $"MX-PORT:{mx.Port}",
            "DKIM-DOMAIN:other.test,sign.test", "DKIM-SELECTOR:s1,e1",
        ]))
        {
            // The 1,500-octet line: if the outgoing text is ever transformed (long lines folded, say),
            // the signer must hash the transformed text, or dkimverify fails here.
            string body = Tricky + new string('w', 990) + "\r\n" + string.Concat(Enumerable.Repeat("long line ", 150)) + "\r\nlast line\r\n\r\n\r\n";
            await SwaksAsync(byMx.Port, "me@sign.test", "user@dest.test", body);
            byte[] signed = mx.WaitFor(1);
            string text = Encoding.Latin1.GetString(signed);
            Assert.StartsWith("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=sign.test; s=s1;", text, StringComparison.Ordinal);
            Assert.Contains("\r\nDKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=sign.test; s=e1;", text, StringComparison.Ordinal);
            Assert.Matches(@"h=from:from:subject:date:to:message-id:\s*mime-version:\s*content-type:\s*content-transfer-encoding;", text);
            Assert.Contains(Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(Tricky)), text, StringComparison.Ordinal); // the text itself unchanged

            Assert.Equal("signature ok", await DkimVerifyAsync(dns, signed, 0));
            Assert.Equal("signature ok", await DkimVerifyAsync(dns, signed, 1));

            // The verifier does fail: one changed octet of the body, or a second From added above.
            byte[] tampered = (byte[])signed.Clone();
            tampered[Array.LastIndexOf(tampered, (byte)'w')] = (byte)'W';
            // (dkimpy says "signature verification failed" for the RSA one; for Ed25519 it ends with its ValidationError.)
            Assert.StartsWith("failed: ", await DkimVerifyAsync(dns, tampered, 0), StringComparison.Ordinal);
            Assert.Contains("body hash mismatch", await DkimVerifyAsync(dns, tampered, 1), StringComparison.Ordinal);
            byte[] extraFrom = [.. Encoding.ASCII.GetBytes("From: someone@else.test\r\n"), .. signed];
            Assert.StartsWith("failed: ", await DkimVerifyAsync(dns, extraFrom, 0), StringComparison.Ordinal);
            Assert.StartsWith("failed: ", await DkimVerifyAsync(dns, extraFrom, 1), StringComparison.Ordinal);

            // A From domain that is not in DKIM-DOMAIN: not signed.
            await SwaksAsync(byMx.Port, "x@unsigned.test", "user@dest.test", "From: x@unsigned.test\r\nSubject: plain\r\n\r\nplain\r\n");
            Assert.DoesNotContain("DKIM-Signature", Encoding.Latin1.GetString(mx.WaitFor(2)), StringComparison.Ordinal);
            Assert.Contains("Not DKIM-signed: From domain unsigned.test is not in DKIM-DOMAIN", await byMx.CtlAsync("debug res:smtp lsn:3"), StringComparison.Ordinal);
        }

        // By SERVER, with the key files named in DKIM-KEY (absolute) and a message without a body.
        await using var relay = new CapturingPeer();
        string keys = string.Join(',', Path.Combine(data, "dkim", "e1.key"), Path.Combine(data, "dkim", "s1.key"));
        using (ServerProcess bySmarthost = await ServerProcess.StartAsync(parameters:
        [
            "RELAY-NET:127/8", "SERVER:127.0.0.1", $"SERVER-TCP-PORT:{relay.Port}",
            "DKIM-DOMAIN:sign.test", "DKIM-SELECTOR:e1,s1", $"DKIM-KEY:{keys}",
        ]))
        {
            await SwaksAsync(bySmarthost.Port, "me@sign.test", "user@far.test", "From: me@sign.test\r\nTo: user@far.test\r\nSubject: no body\r\n");
            byte[] signed = relay.WaitFor(1);
            Assert.StartsWith("DKIM-Signature: v=1; a=ed25519-sha256;", Encoding.Latin1.GetString(signed), StringComparison.Ordinal);
            Assert.Equal("signature ok", await DkimVerifyAsync(dns, signed, 0));
            Assert.Equal("signature ok", await DkimVerifyAsync(dns, signed, 1));
            bySmarthost.DeleteWorkDir();
        }

        Directory.Delete(workDir, recursive: true);
    }

    [Fact]
    public async Task CheckConfigTakesTheDkimParametersTogetherAndNamesAMissingKeyFileByFileAndLine()
    {
        using var dir = new Configuration.TempDir();
        string wdir = Path.Combine(dir.Path, "data");
        await KeygenAsync(wdir, "s1", "rsa");

        string good = dir.Write("good.conf", $"DKIM-DOMAIN:sign.test\nDKIM-SELECTOR:s1\nDKIM-KEY:{Path.Combine(wdir, "dkim", "s1.key")}\n");
        var (exit, output) = await ServerProcess.CheckConfigAsync("--config", good, "--wdir", wdir);
        Assert.True(exit == 0, output);
        Assert.EndsWith("DKIM for sign.test with selector(s) s1)", output.Trim(), StringComparison.Ordinal);

        string missing = dir.Write("missing.conf", "DKIM-DOMAIN:sign.test\nDKIM-SELECTOR:s1,s2\n");
        (exit, output) = await ServerProcess.CheckConfigAsync("--config", missing, "--wdir", wdir);
        var (startExit, startOutput) = await Tool.RunAsync(ServerProcess.ExecutablePath, ["--config", missing, "--wdir", wdir, $"TCP-LOCPORT:{ServerProcess.FreePort()}", "ADMIN-ADDR:#"]);
        Assert.Equal(2, exit);
        Assert.Equal(2, startExit);
        string s2 = Path.Combine(wdir, "dkim", "s2.key");
        Assert.Equal($"abilisfast: {missing}:2: DKIM-KEY {s2} for selector s2: no such file (make one with: abilisfast dkim keygen --selector s2 --wdir {wdir})", output.Trim());
        Assert.Contains(output.Trim(), startOutput, StringComparison.Ordinal);

        string unreadable = dir.Write("junk.key", "not a key");
        string junk = dir.Write("junk.conf", $"DKIM-DOMAIN:sign.test\n\nDKIM-KEY:{unreadable}\n");
        (exit, output) = await ServerProcess.CheckConfigAsync("--config", junk, "--wdir", wdir);
        Assert.Equal(2, exit);
        Assert.StartsWith($"abilisfast: {junk}:3: DKIM-KEY {unreadable} for selector default: no PEM block", output.Trim(), StringComparison.Ordinal);

        string counts = dir.Write("counts.conf", "DKIM-SELECTOR:a,b\nDKIM-KEY:a.key\n");
        (exit, output) = await ServerProcess.CheckConfigAsync("--config", counts, "--wdir", wdir);
        Assert.Equal(2, exit);
        Assert.StartsWith($"abilisfast: {counts}:2: DKIM-SELECTOR:a,b DKIM-KEY:a.key is invalid: 2 selector(s) and 1 key file(s)", output.Trim(), StringComparison.Ordinal);

        foreach ((string line, string expected) in (IEnumerable<(string, string)>)
        [
            ("DKIM-SELECTOR:bad_selector", "DKIM-SELECTOR:bad_selector is invalid: allowed selectors"),
            ("DKIM-DOMAIN:sign.test,-bad-.test", "DKIM-DOMAIN:sign.test,-bad-.test is invalid: allowed empty, or comma-separated domain names"),
        ])
        {
            string bad = dir.Write("bad.conf", "LOG:NO\n" + line + "\n");
            (exit, output) = await ServerProcess.CheckConfigAsync("--config", bad, "--wdir", wdir);
            Assert.Equal(2, exit);
            Assert.StartsWith($"abilisfast: {bad}:2: {expected}", output.Trim(), StringComparison.Ordinal);
        }

        // Without DKIM-DOMAIN nothing is signed, so no key is needed.
        (exit, output) = await ServerProcess.CheckConfigAsync("--wdir", wdir, "DKIM-SELECTOR:nokey");
        Assert.True(exit == 0, output);
    }

    [GeneratedRegex(@"^(\S+) IN TXT \(((?:\s*""[^""]*"")+) \)$", RegexOptions.Multiline)]
    private static partial Regex ZoneRecord();
}
