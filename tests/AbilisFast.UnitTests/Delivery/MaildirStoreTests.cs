namespace AbilisFast.Server.Tests.Delivery;

public sealed class MaildirStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("abilisfast-maildir-").FullName;
    private long _maxBytes = 10 * 1024 * 1024;
    private int _maxMails = 1000;
    private long _clock = 1_000_000;

    private string Root => Path.Combine(_dir, "mailboxes");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A store on live limits and a hand-driven clock (advance <see cref="_clock"/> to let it stat again).</summary>
    private MaildirStore Store() => new(Root, () => (_maxBytes, _maxMails), () => _clock);

    private static MaildirDelivery Deliver(MaildirStore store, string localPart, byte[] body, byte[]? prefix = null) =>
        store.Deliver(localPart, prefix ?? [], new MemoryStream(body), body.Length);

    private string[] Files(string mailbox, string sub) =>
        Directory.Exists(Path.Combine(Root, mailbox, sub)) ? Directory.GetFiles(Path.Combine(Root, mailbox, sub)) : [];

    /// <summary>What the stored file must hold: the text with every CRLF as LF (a lone CR stays).</summary>
    private static byte[] AsLf(byte[] crlf) => Encoding.Latin1.GetBytes(Encoding.Latin1.GetString(crlf).Replace("\r\n", "\n", StringComparison.Ordinal));

    /// <summary>The size an IMAP client sees (Dovecot's W=): every LF without a CR before it counted as two bytes.</summary>
    private static long VirtualSize(byte[] stored)
    {
        long size = stored.Length;
        for (int i = 0; i < stored.Length; i++)
        {
            if (stored[i] == (byte)'\n' && (i == 0 || stored[i - 1] != (byte)'\r'))
            {
                size++;
            }
        }

        return size;
    }

    [Fact]
    public void DeliverStoresPrefixAndBodyWithLfLineEndsIntoNewUnderANameWithTheStoredSize()
    {
        MaildirStore store = Store();
        byte[] prefix = Encoding.UTF8.GetBytes("Return-Path: <a@b>\r\nX-Ümlaut: \u00ff\r\n");
        byte[] body = new byte[3 * 1024 * 1024 + 17];
        var random = new Random(42);
        random.NextBytes(body);
        for (int i = 0; i < body.Length - 1; i += random.Next(2, 120))
        {
            body[i] = (byte)'\r'; // plenty of CRLF pairs, some split across reads, and lone CRs and LFs
            body[i + 1] = random.Next(5) == 0 ? (byte)'x' : (byte)'\n';
        }

        MaildirDelivery result = store.Deliver("alice", prefix, new ChunkedStream(body, 7777), body.Length);

        Assert.True(result.Delivered, result.Error);
        Assert.Equal(MailboxRoom.Ok, result.Room);
        Assert.Null(result.Error);
        Assert.False(result.AlreadyThere);
        byte[] expected = AsLf([.. prefix, .. body]);
        Assert.True(expected.Length < prefix.Length + body.Length - 20_000);
        Assert.Matches(new Regex(@"^\d{10}\.M\d{1,6}P\d+Q\d+\.[^/:]+,S=" + expected.Length + ",W=" + VirtualSize(expected) + "$"), result.FileName);

        string file = Assert.Single(Files("alice", "new"));
        Assert.Equal(result.FileName, Path.GetFileName(file));
        Assert.Equal(expected, File.ReadAllBytes(file));
        Assert.Empty(Files("alice", "tmp"));
        Assert.True(Directory.Exists(Path.Combine(Root, "alice", "cur")));
        Assert.Equal((expected.Length, 1), store.Usage("alice"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(64 * 1024)]
    public void CrlfSplitAcrossReadsBecomesOneLf(int chunk)
    {
        MaildirStore store = Store();
        byte[] body = Encoding.ASCII.GetBytes("Subject: x\r\n\r\nline\r\nCR\ralone\r\r\nLF\nalone\r\nend\r");

        MaildirDelivery result = store.Deliver("bob", "P: 1\r\n"u8, new ChunkedStream(body, chunk), body.Length);

        Assert.True(result.Delivered, result.Error);
        byte[] stored = File.ReadAllBytes(Assert.Single(Files("bob", "new")));
        Assert.Equal("P: 1\nSubject: x\n\nline\nCR\ralone\r\nLF\nalone\nend\r", Encoding.ASCII.GetString(stored));
        Assert.EndsWith($",S={stored.Length},W={VirtualSize(stored)}", result.FileName);
    }

    [Fact]
    public void DeliverCopiesExactlyLengthBytesOfTheBody()
    {
        MaildirStore store = Store();
        byte[] body = Encoding.ASCII.GetBytes("Subject: x\r\n\r\nbody\r\nTRAILING JUNK");

        MaildirDelivery result = store.Deliver("bob", "P:"u8, new MemoryStream(body), body.Length - 13);

        Assert.True(result.Delivered, result.Error);
        Assert.Equal("P:Subject: x\n\nbody\n"u8.ToArray(), File.ReadAllBytes(Assert.Single(Files("bob", "new"))));
    }

    [Fact]
    public void ShortBodyIsAnErrorAndLeavesNothingBehind()
    {
        MaildirStore store = Store();
        byte[] body = new byte[1000];

        MaildirDelivery result = store.Deliver("bob", [], new MemoryStream(body), 5000);

        Assert.False(result.Delivered);
        Assert.NotNull(result.Error);
        Assert.Null(result.FileName);
        Assert.Empty(Files("bob", "new"));
        Assert.Empty(Files("bob", "tmp"));
        Assert.Equal((0L, 0), store.Usage("bob"));
    }

    [Fact]
    public void MaxMailsRefusesAndWritesNothing()
    {
        _maxMails = 2;
        MaildirStore store = Store();
        Assert.True(Deliver(store, "carol", [1, 2, 3]).Delivered);
        Assert.Equal(MailboxRoom.Ok, store.CheckRoom("carol", 3));
        Assert.True(Deliver(store, "carol", [4, 5, 6]).Delivered);

        Assert.Equal(MailboxRoom.FullByCount, store.CheckRoom("carol", 3));
        Assert.Equal(MailboxRoom.FullByCount, store.CheckRoom("carol"u8, 0));
        MaildirDelivery refused = Deliver(store, "carol", [7]);

        Assert.Equal(MailboxRoom.FullByCount, refused.Room);
        Assert.False(refused.Delivered);
        Assert.Null(refused.FileName);
        Assert.Null(refused.Error);
        Assert.Equal(2, Files("carol", "new").Length);
        Assert.Empty(Files("carol", "tmp"));
        Assert.Equal(MailboxRoom.Ok, store.CheckRoom("dave", 3));
    }

    [Fact]
    public void MaxSizeRefusesAndWritesNothing()
    {
        _maxBytes = 1000;
        MaildirStore store = Store();
        Assert.True(Deliver(store, "erin", new byte[500], new byte[100]).Delivered);

        Assert.Equal(MailboxRoom.Ok, store.CheckRoom("erin", 400));
        Assert.Equal(MailboxRoom.FullBySize, store.CheckRoom("erin", 401));
        Assert.Equal(MailboxRoom.FullBySize, store.CheckRoom("erin"u8, 401));
        Assert.Equal(MailboxRoom.Ok, store.CheckRoom("erin"u8, 0));

        MaildirDelivery refused = Deliver(store, "erin", new byte[400], new byte[1]);
        Assert.Equal(MailboxRoom.FullBySize, refused.Room);
        Assert.False(refused.Delivered);
        Assert.Single(Files("erin", "new"));
        Assert.Empty(Files("erin", "tmp"));

        Assert.True(Deliver(store, "erin", new byte[400]).Delivered);
        Assert.Equal((1000L, 2), store.Usage("erin"));
        // Unknown size: a mailbox with no byte left is full; a single oversized message is refused anywhere.
        Assert.Equal(MailboxRoom.FullBySize, store.CheckRoom("erin"u8, 0));
        Assert.Equal(MailboxRoom.FullBySize, store.CheckRoom("nobody", 1001));
    }

    [Fact]
    public void LimitsAreReadOnEveryCheck()
    {
        _maxMails = 1;
        MaildirStore store = Store();
        Assert.True(Deliver(store, "frank", new byte[300]).Delivered);
        Assert.Equal(MailboxRoom.FullByCount, store.CheckRoom("frank"u8, 10));

        _maxMails = 2;
        Assert.Equal(MailboxRoom.Ok, store.CheckRoom("frank"u8, 10));

        _maxBytes = 305;
        Assert.Equal(MailboxRoom.FullBySize, store.CheckRoom("frank"u8, 10));
        Assert.Equal(MailboxRoom.FullBySize, Deliver(store, "frank", new byte[10]).Room);

        _maxBytes = 310;
        Assert.True(Deliver(store, "frank", new byte[10]).Delivered);
        Assert.Equal(2, Files("frank", "new").Length);
    }

    [Fact]
    public void ExternalDeletionFreesRoomOnceTheRefreshRuleAllows()
    {
        _maxMails = 2;
        MaildirStore store = Store();
        Assert.True(Deliver(store, "grace", new byte[100]).Delivered);
        Assert.True(Deliver(store, "grace", new byte[200]).Delivered);
        Assert.Equal(MailboxRoom.FullByCount, store.CheckRoom("grace"u8, 1));

        string[] files = Files("grace", "new");
        File.Delete(files.Single(f => new FileInfo(f).Length == 200));

        // Within the same second the cache is trusted ...
        Assert.Equal(MailboxRoom.FullByCount, store.CheckRoom("grace"u8, 1));
        // ... one second later the directory is looked at again.
        _clock += 1000;
        Assert.Equal(MailboxRoom.Ok, store.CheckRoom("grace"u8, 1));
        Assert.Equal((100L, 1), store.Usage("grace"));
    }

    [Fact]
    public void MailClientMovesAndForeignFilesAreCounted()
    {
        MaildirStore store = Store();
        Assert.True(Deliver(store, "heidi", new byte[100]).Delivered);
        Assert.Equal((100L, 1), store.Usage("heidi"));

        // The mail client moves the message to cur/ with flags, and another program drops one more in cur/.
        string moved = Files("heidi", "new").Single();
        File.Move(moved, Path.Combine(Root, "heidi", "cur", Path.GetFileName(moved) + ":2,S"));
        File.WriteAllBytes(Path.Combine(Root, "heidi", "cur", "1.2.other:2,"), new byte[50]);
        File.WriteAllBytes(Path.Combine(Root, "heidi", "cur", ".hidden-index"), new byte[999]);

        _clock += 1000;
        Assert.Equal((150L, 2), store.Usage("heidi"));
    }

    [Fact]
    public void ExistingMailboxOnDiskIsCountedOnFirstUse()
    {
        string cur = Path.Combine(Root, "ivan", "cur");
        Directory.CreateDirectory(cur);
        File.WriteAllBytes(Path.Combine(cur, "a"), new byte[70]);
        File.WriteAllBytes(Path.Combine(cur, "b"), new byte[30]);
        _maxMails = 2;

        MaildirStore store = Store();

        Assert.Equal(MailboxRoom.FullByCount, store.CheckRoom("ivan"u8, 1));
        Assert.Equal((100L, 2), store.Usage("ivan"));
    }

    [Fact]
    public async Task ConcurrentDeliveriesKeepExactCountsAndDistinctFiles()
    {
        MaildirStore store = Store();
        const int Threads = 8;
        const int PerThread = 25;
        ConcurrentBag<string> names = [];

        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                byte[] body = new byte[10 + t];
                body.AsSpan().Fill((byte)t);
                MaildirDelivery result = Deliver(store, "judy", body);
                Assert.True(result.Delivered, result.Error);
                names.Add(result.FileName!);
            }
        })));

        long expectedBytes = Enumerable.Range(0, Threads).Sum(t => (10L + t) * PerThread);
        Assert.Equal(Threads * PerThread, names.Distinct().Count());
        Assert.Equal(Threads * PerThread, Files("judy", "new").Length);
        Assert.Empty(Files("judy", "tmp"));
        Assert.Equal((expectedBytes, Threads * PerThread), store.Usage("judy"));
        _clock += 1000;
        Assert.Equal((expectedBytes, Threads * PerThread), store.Usage("judy"));
    }

    [Fact]
    public async Task ConcurrentDeliveriesNeverOvershootTheLimit()
    {
        _maxMails = 30;
        MaildirStore store = Store();
        int delivered = 0;
        int refused = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                MaildirDelivery result = Deliver(store, "kim", new byte[64]);
                if (result.Delivered)
                {
                    Interlocked.Increment(ref delivered);
                }
                else
                {
                    Assert.Equal(MailboxRoom.FullByCount, result.Room);
                    Interlocked.Increment(ref refused);
                }
            }
        })));

        Assert.Equal(30, delivered);
        Assert.Equal(50, refused);
        Assert.Equal(30, Files("kim", "new").Length);
        Assert.Equal((30L * 64, 30), store.Usage("kim"));
    }

    [Fact]
    public void SpanAndStringChecksShareOneMailboxAndTakeTheFolderAsItIs()
    {
        // Folder names come from MailboxFolder (lower case, escaped): the store takes them verbatim.
        _maxMails = 1;
        MaildirStore store = Store();
        Assert.True(Deliver(store, "j%C3%B6rg", [1]).Delivered);
        Assert.Single(Files("j%C3%B6rg", "new"));

        Assert.Equal(MailboxRoom.FullByCount, store.CheckRoom("j%C3%B6rg"u8, 1));
        Assert.Equal(MailboxRoom.FullByCount, store.CheckRoom("j%C3%B6rg", 1));
        Assert.Equal(MailboxRoom.Ok, store.CheckRoom("J%C3%B6rg"u8, 1));

        // 300 bytes: checked through the string fallback of the span check.
        string longName = new('x', 300);
        Assert.Equal(MailboxRoom.Ok, store.CheckRoom(Encoding.ASCII.GetBytes(longName), 1));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData(".hidden")]
    [InlineData("..")]
    [InlineData("")]
    [InlineData("a\b")]
    [InlineData("tab	here")]
    public void NamesThatAreNoFolderNameAreRefusedWithoutTouchingTheDisk(string folder)
    {
        MaildirStore store = Store();
        MaildirDelivery result = Deliver(store, folder, [1]);

        Assert.False(result.Delivered);
        Assert.Contains("not a mailbox folder name", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Root) && Directory.EnumerateFileSystemEntries(Root).Any());
        Assert.False(Directory.Exists(Path.Combine(_dir, "escape")));
    }

    [Fact]
    public void NameTooLongForTheFileSystemIsAnErrorNotAnException()
    {
        MaildirStore store = Store();
        string tooLong = new('y', 300);

        Assert.Equal(MailboxRoom.Ok, store.CheckRoom(Encoding.ASCII.GetBytes(tooLong), 1));
        Assert.Equal(MailboxRoom.Ok, store.CheckRoom(tooLong, 1));
        MaildirDelivery result = Deliver(store, tooLong, [1]);

        Assert.False(result.Delivered);
        Assert.False(string.IsNullOrEmpty(result.Error));
        Assert.Equal((0L, 0), store.Usage(tooLong));
    }

    [Fact]
    public void UnwritableRootGivesAnErrorNotAnException()
    {
        // Works as root too: the root path is an existing regular file, so no directory can be made below it.
        string root = Path.Combine(_dir, "not-a-directory");
        File.WriteAllText(root, "x");
        MaildirStore store = new(root, () => (_maxBytes, _maxMails));

        Assert.Equal(MailboxRoom.Ok, store.CheckRoom("zoe"u8, 10));
        MaildirDelivery result = Deliver(store, "zoe", new byte[10]);

        Assert.False(result.Delivered);
        Assert.Equal(MailboxRoom.Ok, result.Room);
        Assert.False(string.IsNullOrEmpty(result.Error));
        Assert.Null(result.FileName);
        Assert.Equal("x", File.ReadAllText(root));
        Assert.Equal((0L, 0), store.Usage("zoe"));
    }

    [Fact]
    public void CheckRoomFromUtf8DoesNotAllocateInTheSteadyState()
    {
        MaildirStore store = Store();
        Assert.True(Deliver(store, "mallory", new byte[100]).Delivered);
        // A mailbox nobody touched for an hour: no recent-change rescans, only the stat once a "second".
        DateTime old = DateTime.UtcNow.AddHours(-1);
        Directory.SetLastWriteTimeUtc(Path.Combine(Root, "mallory", "new"), old);
        Directory.SetLastWriteTimeUtc(Path.Combine(Root, "mallory", "cur"), old);

        byte[] existing = Encoding.ASCII.GetBytes("mallory");
        byte[] missing = Encoding.UTF8.GetBytes("nobody.hère");
        // The least of three rounds: a one-off allocation of the runtime (a tier-up under load) shows
        // in one round only, an allocation of CheckRoom in every round.
        long allocated = Allocations.InSteadyState(1000, () => Run(store, existing, missing), out long ok);
        Assert.Equal(0, allocated);
        Assert.Equal((100 + 3 * 1000) * 2, ok);
        Assert.False(Directory.Exists(Path.Combine(Root, "nobody.hère")));

        int Run(MaildirStore s, byte[] e, byte[] m)
        {
            // Every other round a "second" passes, so the stat path is measured as well as the cached one.
            _clock += 600;
            return (s.CheckRoom(e, 50) == MailboxRoom.Ok ? 1 : 0) + (s.CheckRoom(m, 50) == MailboxRoom.Ok ? 1 : 0);
        }
    }

    [Fact]
    public void CheckRoomFromUtf8DoesNotAllocateWithTheRealClock()
    {
        MaildirStore store = new(Root, () => (_maxBytes, _maxMails));
        Assert.True(Deliver(store, "niaj", new byte[100]).Delivered);
        DateTime old = DateTime.UtcNow.AddHours(-1);
        Directory.SetLastWriteTimeUtc(Path.Combine(Root, "niaj", "new"), old);
        Directory.SetLastWriteTimeUtc(Path.Combine(Root, "niaj", "cur"), old);
        byte[] existing = "Niaj"u8.ToArray();
        byte[] missing = "missing"u8.ToArray();

        // The delivery left the mailbox marked for a rescan; let one stat pass before measuring.
        for (int i = 0; i < 100; i++)
        {
            _ = store.CheckRoom(existing, 1);
            _ = store.CheckRoom(missing, 1);
        }

        Thread.Sleep(1100);
        int full = 0;
        for (int i = 0; i < 100; i++)
        {
            full += store.CheckRoom(existing, 1) == MailboxRoom.Ok ? 0 : 1;
            full += store.CheckRoom(missing, 1) == MailboxRoom.Ok ? 0 : 1;
        }

        long allocated = Allocations.LeastOf(3, () =>
        {
            for (int i = 0; i < 1000; i++)
            {
                full += store.CheckRoom(existing, 1) == MailboxRoom.Ok ? 0 : 1;
                full += store.CheckRoom(missing, 1) == MailboxRoom.Ok ? 0 : 1;
            }
        });
        Assert.Equal(0, allocated);
        Assert.Equal(0, full);
    }

    private static MaildirKey Key(uint id, int recipient = 0, string address = "r@local.test", long received = 1_764_000_000_000) =>
        new(id, received, recipient, address);

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void FilesAre0600AndFolders0700EvenWhereAnEarlierVersionMadeThem0755()
    {
        // An older mailbox as the previous version left it: folders 0755, a message 0644.
        const UnixFileMode Open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        foreach (string sub in (string[])["tmp", "new", "cur"])
        {
            Directory.CreateDirectory(Path.Combine(Root, "old", sub), Open);
        }

        MaildirStore store = Store();
        Assert.True(Deliver(store, "old", "Subject: a\r\n\r\nb\r\n"u8.ToArray()).Delivered);
        Assert.True(Deliver(store, "fresh", "Subject: a\r\n\r\nb\r\n"u8.ToArray()).Delivered);

        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        foreach (string box in (string[])["old", "fresh"])
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Assert.Single(Files(box, "new"))));
            Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(Root, box)));
            foreach (string sub in (string[])["tmp", "new", "cur"])
            {
                Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(Root, box, sub)));
            }
        }

        Assert.Equal(Private, File.GetUnixFileMode(Root));
    }

    [Fact]
    public void NameCarriesTheDeliveryKeyAndTheEscapedHost()
    {
        MaildirStore store = Store();
        MaildirKey key = Key(0x84A582F6, 3);
        MaildirDelivery result = store.Deliver("kay", "X: 1\r\n"u8, new MemoryStream([]), 0, key);

        Assert.True(result.Delivered, result.Error);
        Assert.Matches(@"^\d+\.M\d+P\d+Q\d+_A84A582F6R3H[0-9A-F]{8}\.[^/:]+,S=5,W=6$", result.FileName);
        Assert.Equal(key.Text, MaildirName.KeyOf(result.FileName!));
        Assert.Equal(key.Text, MaildirName.KeyOf(result.FileName + ":2,S"));
        Assert.Null(MaildirName.KeyOf("1764000000.M1P2Q3.host,S=5:2,"));
        Assert.Null(MaildirName.KeyOf("1764000000.12345_6.host,S=5"));
        // The same message and recipient give the same key; another recipient, time or queue id another.
        Assert.Equal(key.Text, Key(0x84A582F6, 3).Text);
        Assert.Equal(key.Text, Key(0x84A582F6, 3, "R@Local.Test").Text);
        Assert.NotEqual(key.Text, Key(0x84A582F6, 2).Text);
        Assert.NotEqual(key.Text, Key(0x84A582F6, 3, received: 1_764_000_000_001).Text);
        Assert.NotEqual(key.Text, Key(0x84A582F6, 3, "other@local.test").Text);
        Assert.NotEqual(key.Text, Key(0x84A582F7, 3).Text);

        Assert.Equal("a\\057b\\072c.example", MaildirName.EscapeHost("a/b:c.example"));
        Assert.Equal("localhost", MaildirName.EscapeHost(""));
    }

    [Fact]
    public void ARecoveredMessageFindsItsEarlierDeliveryInNewOrCurAndIsNotWrittenTwice()
    {
        byte[] body = "Subject: once\r\n\r\nbody\r\n"u8.ToArray();
        MaildirStore before = Store();
        MaildirDelivery first = before.Deliver("liz", [], new MemoryStream(body), body.Length, Key(7, 0));
        MaildirDelivery second = before.Deliver("liz", [], new MemoryStream(body), body.Length, Key(8, 0));
        Assert.True(first.Delivered && second.Delivered);

        // The mail reader moved the first message to cur/ and marked it seen.
        string moved = Path.Combine(Root, "liz", "cur", first.FileName + ":2,S");
        File.Move(Path.Combine(Root, "liz", "new", first.FileName!), moved);

        // A restart: both messages come back from the spool, both recipients still pending.
        MaildirStore after = Store();
        after.ExpectRedelivery(7);
        after.ExpectRedelivery(8);
        after.ExpectRedelivery(9);
        MaildirDelivery again1 = after.Deliver("liz", [], new MemoryStream(body), body.Length, Key(7, 0));
        MaildirDelivery again2 = after.Deliver("liz", [], new MemoryStream(body), body.Length, Key(8, 0));
        MaildirDelivery other = after.Deliver("liz", [], new MemoryStream(body), body.Length, Key(8, 1)); // another recipient of 8
        MaildirDelivery fresh = after.Deliver("liz", [], new MemoryStream(body), body.Length, Key(9, 0));

        Assert.True(again1.Delivered && again1.AlreadyThere);
        Assert.Equal("cur/" + first.FileName + ":2,S", again1.FileName);
        Assert.True(again2.Delivered && again2.AlreadyThere);
        Assert.Equal("new/" + second.FileName, again2.FileName);
        Assert.True(other.Delivered && !other.AlreadyThere);
        Assert.True(fresh.Delivered && !fresh.AlreadyThere);
        Assert.Equal(3, Files("liz", "new").Length); // 8/0, 8/1 and 9/0
        Assert.Single(Files("liz", "cur"));
        Assert.Empty(Files("liz", "tmp"));
        _clock += 1000;
        Assert.Equal(4, after.Usage("liz").Mails);

        // Only recovered messages are looked for: the key of a message this process took cannot
        // be there, and one that left the spool (Forget) is not looked for again.
        MaildirStore later = Store();
        later.ExpectRedelivery(8);
        later.Forget(8);
        MaildirDelivery forgotten = later.Deliver("liz", [], new MemoryStream(body), body.Length, Key(8, 0));
        Assert.True(forgotten.Delivered && !forgotten.AlreadyThere);
        Assert.Equal(4, Files("liz", "new").Length);
    }

    [Fact]
    public void ATmpFileLeftByADeadProcessIsRemovedOnFirstUseAndForeignOnesAreKept()
    {
        string tmp = Path.Combine(Root, "meg", "tmp");
        Directory.CreateDirectory(tmp);
        string ours = Path.Combine(tmp, $"1764000000.M12P{Environment.ProcessId + 1}Q4_A00000007R0H01234567.{MaildirName.Host}");
        string oursNoKey = Path.Combine(tmp, $"1764000000.M12P{Environment.ProcessId + 1}Q5.{MaildirName.Host}");
        string otherHost = Path.Combine(tmp, $"1764000000.M12P{Environment.ProcessId + 1}Q6.elsewhere");
        string dovecot = Path.Combine(tmp, "1764000000.M123456P789.host");
        foreach (string file in (string[])[ours, oursNoKey, otherHost, dovecot])
        {
            File.WriteAllText(file, "partial");
        }

        Assert.True(Deliver(Store(), "meg", [1, 2, 3]).Delivered);

        Assert.False(File.Exists(ours));
        Assert.False(File.Exists(oursNoKey));
        Assert.True(File.Exists(otherHost));
        Assert.True(File.Exists(dovecot));
    }

    [Fact]
    public void MaxSizeCountsTheStoredSizeWithLfLineEnds()
    {
        // 100 lines of 8 bytes + CRLF: 1000 bytes on the wire, 900 stored.
        byte[] body = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("12345678\r\n", 100)));
        _maxBytes = 950;
        MaildirStore store = Store();

        MaildirDelivery fits = Deliver(store, "nan", body);
        Assert.True(fits.Delivered, fits.Error);
        Assert.EndsWith(",S=900,W=1000", fits.FileName);
        Assert.Equal((900L, 1), store.Usage("nan"));

        // 50 bytes left: a message of 100 bytes on the wire that needs 90 does not fit. It might
        // have (it could have been 50 bytes stored), so it was written and then removed: nothing stays behind.
        MaildirDelivery refused = Deliver(store, "nan", body[..100]);
        Assert.Equal(MailboxRoom.FullBySize, refused.Room);
        Assert.False(refused.Delivered);
        Assert.Single(Files("nan", "new"));
        Assert.Empty(Files("nan", "tmp"));

        // 90 bytes left: the same message fits exactly, although its wire size (100) would not.
        _maxBytes = 990;
        Assert.True(Deliver(store, "nan", body[..100]).Delivered);
        Assert.Equal((990L, 2), store.Usage("nan"));

        // Full: one that would need more than twice the room left is refused before it is written.
        Assert.Equal(MailboxRoom.FullBySize, Deliver(store, "nan", body[..10]).Room);
        Assert.Empty(Files("nan", "tmp"));
    }

    [Theory]
    [InlineData(28, "NoSpace")]
    [InlineData(122, "Quota")]
    [InlineData(5, "Other")]
    public void WriteErrorsAreToldApartByErrno(int errno, string expected)
    {
        Assert.Equal(expected, MaildirStore.Classify(new IOException("write failed", errno)).ToString());
        Assert.Equal(MaildirFailure.Other, MaildirStore.Classify(new UnauthorizedAccessException()));
    }

    /// <summary>A read-only stream that hands out at most <c>chunk</c> bytes per read.</summary>
    private sealed class ChunkedStream(byte[] data, int chunk) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, chunk), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer.AsSpan(offset));
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
