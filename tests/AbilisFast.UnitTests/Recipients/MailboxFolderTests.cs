namespace AbilisFast.Server.Tests.Recipients;

public sealed class MailboxFolderTests
{
    private static string Canonical(string localPart)
    {
        char[] chars = new char[localPart.Length + 1];
        int n = MailboxFolder.Canonicalize(Encoding.UTF8.GetBytes(localPart), chars);
        return new string(chars, 0, n);
    }

    [Theory]
    [InlineData("bob", "bob")]
    [InlineData("Bob.Smith", "bob.smith")]
    [InlineData("\"bob\"", "bob")]
    [InlineData("\"a/b\"", "a%2Fb")]
    [InlineData("a_b", "a_b")]
    [InlineData("\"a b\"", "a%20b")]
    [InlineData("a%b", "a%25b")]
    [InlineData(".hidden", "%2Ehidden")]
    [InlineData("\"..\"", "%2E.")]
    [InlineData("\"\"", "%")]
    [InlineData("\"a\\\"b\"", "a%22b")]
    [InlineData("Müller", "müller")]
    [InlineData("用户", "用户")]
    [InlineData("a~b", "a%7Eb")]
    [InlineData("a\u200Bb", "a%E2%80%8Bb")]
    public void LocalPartsMapToEscapedFolders(string localPart, string folder)
    {
        Assert.Equal(folder, MailboxFolder.For(Canonical(localPart)));
        Assert.True(MailboxFolder.IsValid(folder));
    }

    [Fact]
    public void DifferentLocalPartsNeverShareAFolderAndSpellingsOfOneDo()
    {
        string[] distinct = ["a/b", "a_b", "a%2Fb", "a b", "a+b", "a.b", "a-b", "a=b", "ab", "a%b", "~x", "%7Ex", "müller", "mueller", ".ab", "%2Eab"];
        string[] folders = [.. distinct.Select(d => MailboxFolder.For(d))];
        Assert.Equal(distinct.Length, folders.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(MailboxFolder.For("Bob"), MailboxFolder.For("BOB"));
        Assert.Equal(MailboxFolder.For("MÜLLER"), MailboxFolder.For("müller"));
    }

    [Fact]
    public void LongNamesAreHashedAndStillDistinct()
    {
        string a = new('\u00e9', 150);
        string b = new string('\u00e9', 149) + "e";
        string folderA = MailboxFolder.For(a + "!");
        string folderB = MailboxFolder.For(b + "!");
        Assert.StartsWith("~", folderA, StringComparison.Ordinal);
        Assert.Equal(65, folderA.Length);
        Assert.NotEqual(folderA, folderB);
        Assert.Equal(folderA, MailboxFolder.For((a + "!").ToUpperInvariant()));
        Assert.True(Encoding.UTF8.GetByteCount(MailboxFolder.For(new string('x', 200))) <= MailboxFolder.MaxLength);
    }

    [Theory]
    [InlineData("bob")]
    [InlineData("a%2Fb")]
    [InlineData("müller")]
    public void FolderNamesPassTheDeliveryCheck(string folder) => Assert.True(MailboxFolder.IsValid(folder));

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData(".x")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("a b")]
    [InlineData("a\nb")]
    public void OtherNamesFailTheDeliveryCheck(string folder) => Assert.False(MailboxFolder.IsValid(folder));

    [Fact]
    public void AUserFolderIsTheUserNameInLowerCase()
    {
        Assert.Equal("bob.smith", MailboxFolder.ForUser("Bob.Smith"));
        Assert.Equal("a-b_c", MailboxFolder.ForUser("A-B_c"));
    }

    [Theory]
    [InlineData("bücher.test", "xn--bcher-kva.test", true)]
    [InlineData("bücher.test", "XN--BCHER-KVA.TEST", true)]
    [InlineData("bücher.test", "BÜCHER.test", true)]
    [InlineData("bücher.test", "bücher.test.", true)]
    [InlineData("xn--bcher-kva.test", "bücher.test", true)]
    [InlineData("mail.bücher.test", "MAIL.xn--bcher-kva.TEST", true)]
    [InlineData("mail.bücher.test", "mail.BÜCHER.test", true)]
    [InlineData("bücher.test", "sub.bücher.test", false)]
    [InlineData("bücher.test", "bucher.test", false)]
    [InlineData("Example.TEST", "example.test", true)]
    [InlineData("example.test", "xample.test", false)]
    public void DomainsMatchInAnyCaseAndEitherIdnForm(string configured, string given, bool matches)
    {
        var set = new DomainSet([configured]);
        Assert.Equal(matches, set.Contains(Encoding.UTF8.GetBytes(given)));
        Assert.Equal(DomainSet.TryToAscii(configured), set.AsciiNames[0]);
    }

    [Fact]
    public void LocalDomainTakesInternationalisedNamesAndRefusesTheSameDomainTwice()
    {
        SmtpSettings settings = Support.TestSettings.Create("LOCAL-DOMAIN:Bücher.test,xn--bcher-kva.test,a.test");
        Assert.Equal(["xn--bcher-kva.test", "a.test"], settings.LocalDomains);
        Assert.Equal(0, settings.LocalDomainIndex("XN--BCHER-KVA.test"u8));
        Assert.Equal("xn--bcher-kva.test", settings.LocalDomainAscii(0));
        Assert.Equal(1, settings.LocalDomainIndex("A.TEST"u8));
    }
}
