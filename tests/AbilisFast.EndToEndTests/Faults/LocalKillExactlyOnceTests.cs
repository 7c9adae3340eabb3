namespace AbilisFast.Server.Tests.Faults;

/// <summary>
/// The short form of the exactly-once cycle test (tools/soak.sh --local --cycles 50 is the long
/// one): four clients send numbered messages to one local mailbox while a mail reader moves
/// delivered files from new/ to cur/ with flags; the server gets kill -9 at random moments and is
/// restarted on the same WDIR. Counted from the Maildir files: every message that got a 250 is in
/// the mailbox exactly once, none is there twice, none is there that was refused.
/// </summary>
[Collection("EndToEnd")]
public sealed partial class LocalKillExactlyOnceTests(ITestOutputHelper output)
{
    private const string Tag = "once";

    [Fact]
    public async Task EveryAcceptedLocalMessageIsInTheMailboxExactlyOnceAfterKillsAndRestarts()
    {
        string workDir = ServerProcess.NewWorkDir();
        string[] parameters = ["LOCAL-DOMAIN:local.test", "HELOHOST:mx.local.test", "STORE-MB:YES", "MAIL-TRY-DELAY:1",
            "MB-MAXMAILS:1000000", "MB-MAXSIZE:4194304", "MAX-IP-SES:10"];
        ServerProcess.AddMailUsers(workDir, "box"); // local domains take only real mailboxes (LOCAL-RCPT:KNOWN)
        string box = Path.Combine(workDir, "data", "mailboxes", "box");
        using KillLoad load = await KillLoad.StartAsync(workDir, parameters, Tag, _ => "box@local.test", bodyLines: 8);

        // A mail reader: moves what arrives in new/ to cur/ and marks it seen, as an IMAP server does.
        load.Alongside(async () =>
        {
            while (!load.Stopping.IsCancellationRequested)
            {
                MoveToCur(box);
                await Eventually.LetTimePassAsync(TimeSpan.FromMilliseconds(50), "the reader's pace: it looks at new/ again");
            }
        });
        const int Kills = 6;
        await load.KillAndRestartAsync(Kills, 400, 1500, 1000);
        ConcurrentDictionary<int, Fate> fates = load.Fates;
        int[] accepted = load.AcceptedAtLeast(50);
        await load.AssertDrainsAndStopsCleanlyAsync(TimeSpan.FromSeconds(30));

        Dictionary<int, int> copies = Count(box);
        int[] lost = [.. accepted.Where(n => !copies.ContainsKey(n))];
        int[] twice = [.. copies.Where(c => c.Value > 1).Select(c => c.Key)];
        int[] notTaken = [.. copies.Keys.Where(n => fates.GetValueOrDefault(n) == Fate.NotTaken)];
        int inFlight = fates.Count(f => f.Value == Fate.InFlight);
        output.WriteLine($"{Kills} kills: {fates.Count} started, {accepted.Length} got a 250, {inFlight} in flight at a kill "
            + $"({copies.Keys.Count(n => fates.GetValueOrDefault(n) == Fate.InFlight)} of them delivered), "
            + $"{copies.Count} in the mailbox, {twice.Length} twice, {lost.Length} lost; {Directory.GetFiles(Path.Combine(box, "cur")).Length} moved to cur/ by the reader");
        Assert.Empty(lost);
        Assert.Empty(twice);
        Assert.Empty(notTaken);
        Assert.Empty(Directory.GetFiles(Path.Combine(box, "tmp"))); // partial files of killed deliveries were swept
    }

    private static void MoveToCur(string box)
    {
        string newDir = Path.Combine(box, "new");
        if (!Directory.Exists(newDir))
        {
            return;
        }

        foreach (string file in Directory.GetFiles(newDir))
        {
            try
            {
                File.Move(file, Path.Combine(box, "cur", Path.GetFileName(file) + ":2,S"));
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>How many complete copies of each message number are in new/ and cur/.</summary>
    private static Dictionary<int, int> Count(string box)
    {
        var counts = new Dictionary<int, int>();
        foreach (string sub in (string[])["new", "cur"])
        {
            string dir = Path.Combine(box, sub);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (string file in Directory.GetFiles(dir))
            {
                string text = File.ReadAllText(file);
                Match m = SubjectLine().Match(text);
                Assert.True(m.Success && text.EndsWith("\n" + FaultRig.EndMark + "\n", StringComparison.Ordinal), $"not a whole test message: {file}");
                int n = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                counts[n] = counts.GetValueOrDefault(n) + 1;
            }
        }

        return counts;
    }

    [GeneratedRegex("\nSubject: " + Tag + @" (\d+)\n")]
    private static partial Regex SubjectLine();
}
