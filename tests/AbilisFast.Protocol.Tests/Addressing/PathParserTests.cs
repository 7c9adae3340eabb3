namespace AbilisFast.Protocol.Tests.Addressing;

public sealed class PathParserTests
{
    private static readonly string Local64 = new('a', 64);
    private static readonly string Label63 = new('b', 63);

    // Domain of exactly 255 octets: 4 labels of 63 + 3 dots = 255.
    private static readonly string Domain255 = string.Join('.', Enumerable.Repeat(Label63, 4));

    private static string S(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>Parses <paramref name="bytes"/> as a path of that kind, which must succeed; the parsed path.</summary>
    private static ParsedPath ParsedOk(byte[] bytes, PathKind kind)
    {
        Assert.Equal(PathStatus.Ok, PathParser.TryParse(bytes, kind, out ParsedPath path));
        return path;
    }

    [Theory]
    // arg, forward, expected local, expected domain, expected parameters
    [InlineData("<a@b.example>", false, "a", "b.example", "")]
    [InlineData("<a@b.example>", true, "a", "b.example", "")]
    [InlineData("<a@b.example> SIZE=100 BODY=8BITMIME", false, "a", "b.example", "SIZE=100 BODY=8BITMIME")]
    [InlineData(" <a@b.example>", false, "a", "b.example", "")]
    [InlineData("<a@b.example>   NOTIFY=NEVER", true, "a", "b.example", "NOTIFY=NEVER")]
    [InlineData("<a@b.example> ", true, "a", "b.example", "")]
    [InlineData("<first.last+tag@sub-domain.example.com>", true, "first.last+tag", "sub-domain.example.com", "")]
    [InlineData("<#$&'*+-/=?^_`{|}~@x>", true, "#$&'*+-/=?^_`{|}~", "x", "")]
    [InlineData("<\"john doe\"@example.com>", true, "\"john doe\"", "example.com", "")]
    [InlineData("<\"a\\\"b\"@example.com>", true, "\"a\\\"b\"", "example.com", "")]
    [InlineData("<\"..\"@example.com>", true, "\"..\"", "example.com", "")]
    [InlineData("<\"\"@example.com>", true, "\"\"", "example.com", "")]
    [InlineData("<@relay.example:a@b.example>", true, "a", "b.example", "")]
    [InlineData("<@r1.example,@r2.example:a@b.example> X=1", true, "a", "b.example", "X=1")]
    [InlineData("<a@[192.0.2.1]>", true, "a", "[192.0.2.1]", "")]
    [InlineData("<a@[0.0.0.0]>", true, "a", "[0.0.0.0]", "")]
    [InlineData("<a@[IPv6:2001:db8::1]>", true, "a", "[IPv6:2001:db8::1]", "")]
    [InlineData("<a@[ipv6:::1]>", true, "a", "[ipv6:::1]", "")]
    [InlineData("<a@[IPv6:::ffff:192.0.2.1]>", true, "a", "[IPv6:::ffff:192.0.2.1]", "")]
    [InlineData("<Postmaster@b.example>", false, "Postmaster", "b.example", "")]
    [InlineData("<a@1.2.3.4>", true, "a", "1.2.3.4", "")]
    [InlineData("<a@xn--bcher-kva.example>", true, "a", "xn--bcher-kva.example", "")]
    public void ValidPaths(string arg, bool forward, string local, string domain, string parameters)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(arg);
        ParsedPath path = ParsedOk(bytes, forward ? PathKind.Forward : PathKind.Reverse);
        Assert.Equal(local, S(path.LocalPart(bytes)));
        Assert.Equal(domain, S(path.Domain(bytes)));
        Assert.Equal(parameters, S(path.Parameters(bytes)));
        Assert.Equal(local + "@" + domain, S(path.Mailbox(bytes)));
        Assert.False(path.IsNullPath);
        Assert.False(path.IsPostmaster);
        Assert.False(path.HasNonAscii);
        Assert.Equal(local.StartsWith('"'), path.IsQuotedLocalPart);
        Assert.Equal(domain.StartsWith('['), path.IsAddressLiteral);
        Assert.Equal(arg.StartsWith("<@", StringComparison.Ordinal), path.HadSourceRoute);
    }

    [Theory]
    [InlineData("<>", "")]
    [InlineData("<> SMTPUTF8", "SMTPUTF8")]
    [InlineData("<>  BODY=7BIT RET=HDRS", "BODY=7BIT RET=HDRS")]
    public void NullPathOnlyForReverse(string arg, string parameters)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(arg);
        ParsedPath path = ParsedOk(bytes, PathKind.Reverse);
        Assert.True(path.IsNullPath);
        Assert.Equal(0, path.LocalLength);
        Assert.Equal(0, path.DomainLength);
        Assert.Equal(parameters, S(path.Parameters(bytes)));

        Assert.Equal(PathStatus.SyntaxError, PathParser.TryParse(bytes, PathKind.Forward, out _));
    }

    [Theory]
    [InlineData("<postmaster>")]
    [InlineData("<POSTMASTER>")]
    [InlineData("<PostMaster> NOTIFY=NEVER")]
    public void PostmasterOnlyForForward(string arg)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(arg);
        ParsedPath path = ParsedOk(bytes, PathKind.Forward);
        Assert.True(path.IsPostmaster);
        Assert.Equal("postmaster", S(path.LocalPart(bytes)), ignoreCase: true);
        Assert.Equal(0, path.DomainLength);

        Assert.Equal(PathStatus.SyntaxError, PathParser.TryParse(bytes, PathKind.Reverse, out _));
    }

    public static TheoryData<string, string> InvalidPaths => new()
    {
        // brackets and framing
        { "", nameof(PathStatus.SyntaxError) },
        { "a@b.example", nameof(PathStatus.SyntaxError) },
        { "<a@b.example", nameof(PathStatus.SyntaxError) },
        { "a@b.example>", nameof(PathStatus.SyntaxError) },
        { "<a@b.example>SIZE=1", nameof(PathStatus.SyntaxError) },
        { "<a@b.example>\tSIZE=1", nameof(PathStatus.SyntaxError) },
        { "<a@b.example>>", nameof(PathStatus.SyntaxError) },
        { "<<a@b.example>>", nameof(PathStatus.SyntaxError) },
        { "< a@b.example>", nameof(PathStatus.SyntaxError) },
        { "<a@b.example >", nameof(PathStatus.SyntaxError) },
        { "<a>", nameof(PathStatus.SyntaxError) },
        { "<a@>", nameof(PathStatus.SyntaxError) },
        { "<@b.example>", nameof(PathStatus.SyntaxError) },
        { "<a@b@c.example>", nameof(PathStatus.SyntaxError) },
        { "<\"postmaster\">", nameof(PathStatus.SyntaxError) },
        { "<@r.example:postmaster>", nameof(PathStatus.SyntaxError) },
        // dots
        { "<.a@b.example>", nameof(PathStatus.SyntaxError) },
        { "<a.@b.example>", nameof(PathStatus.SyntaxError) },
        { "<a..b@b.example>", nameof(PathStatus.SyntaxError) },
        { "<a@.b.example>", nameof(PathStatus.SyntaxError) },
        { "<a@b..example>", nameof(PathStatus.SyntaxError) },
        { "<a@b.example.>", nameof(PathStatus.SyntaxError) },
        // labels
        { "<a@-b.example>", nameof(PathStatus.SyntaxError) },
        { "<a@b-.example>", nameof(PathStatus.SyntaxError) },
        { "<a@b_c.example>", nameof(PathStatus.SyntaxError) },
        // local part characters
        { "<a b@b.example>", nameof(PathStatus.SyntaxError) },
        { "<a(b)@b.example>", nameof(PathStatus.SyntaxError) },
        { "<a\"b@b.example>", nameof(PathStatus.SyntaxError) },
        { "<\"a@b.example>", nameof(PathStatus.SyntaxError) },
        { "<\"a\u0001\"@b.example>", nameof(PathStatus.SyntaxError) },
        { "<\"a\\\u0001\"@b.example>", nameof(PathStatus.SyntaxError) },
        // source routes
        { "<@:a@b.example>", nameof(PathStatus.SyntaxError) },
        { "<@r.example a@b.example>", nameof(PathStatus.SyntaxError) },
        { "<@r.example,a@b.example>", nameof(PathStatus.SyntaxError) },
        { "<@r.example,@:a@b.example>", nameof(PathStatus.SyntaxError) },
        // address literals
        { "<a@[1.2.3]>", nameof(PathStatus.SyntaxError) },
        { "<a@[1.2.3.4.5]>", nameof(PathStatus.SyntaxError) },
        { "<a@[256.1.1.1]>", nameof(PathStatus.SyntaxError) },
        { "<a@[1.2.3.0001]>", nameof(PathStatus.SyntaxError) },
        { "<a@[1.2.3.4 ]>", nameof(PathStatus.SyntaxError) },
        { "<a@[0x1.2.3.4]>", nameof(PathStatus.SyntaxError) },
        { "<a@[1]>", nameof(PathStatus.SyntaxError) },
        { "<a@[]>", nameof(PathStatus.SyntaxError) },
        { "<a@[IPv6:]>", nameof(PathStatus.SyntaxError) },
        { "<a@[IPv6:1.2.3.4]>", nameof(PathStatus.SyntaxError) },
        { "<a@[IPv6:2001:db8::g]>", nameof(PathStatus.SyntaxError) },
        { "<a@[IPv6:1:2:3:4:5:6:7:8:9]>", nameof(PathStatus.SyntaxError) },
        { "<a@[IPv6:fe80::1%eth0]>", nameof(PathStatus.SyntaxError) },
        { "<a@[2001:db8::1]>", nameof(PathStatus.SyntaxError) },
        { "<a@[x-tag:foo]>", nameof(PathStatus.SyntaxError) },
        { "<a@[1.2.3.4>", nameof(PathStatus.SyntaxError) },
        { "<a@[1.2.3.4]x>", nameof(PathStatus.SyntaxError) },
        // routing characters
        { "<a%c@b.example>", nameof(PathStatus.RoutingCharacters) },
        { "<c!a@b.example>", nameof(PathStatus.RoutingCharacters) },
        { "<\"a@c\"@b.example>", nameof(PathStatus.RoutingCharacters) },
        { "<\"a\\@c\"@b.example>", nameof(PathStatus.RoutingCharacters) },
        { "<\"a%c\"@b.example>", nameof(PathStatus.RoutingCharacters) },
        { "<\"a!c\"@b.example>", nameof(PathStatus.RoutingCharacters) },
        { "<@r.example:a%c@b.example>", nameof(PathStatus.RoutingCharacters) },
    };

    [Theory]
    [MemberData(nameof(InvalidPaths))]
    public void InvalidPathsAreRejected(string arg, string expectedName)
    {
        PathStatus expected = Enum.Parse<PathStatus>(expectedName);
        byte[] bytes = Encoding.UTF8.GetBytes(arg);
        Assert.Equal(expected, PathParser.TryParse(bytes, PathKind.Forward, out ParsedPath path));
        Assert.Equal(default, path);
        Assert.Equal(expected, PathParser.TryParse(bytes, PathKind.Reverse, out _));
    }

    [Fact]
    public void LengthLimits()
    {
        Assert.Equal(PathStatus.Ok, Parse($"<{Local64}@b.example>"));
        Assert.Equal(PathStatus.TooLong, Parse($"<{Local64}a@b.example>"));
        Assert.Equal(PathStatus.Ok, Parse($"<\"{new string('q', 62)}\"@b.example>"));
        Assert.Equal(PathStatus.TooLong, Parse($"<\"{new string('q', 63)}\"@b.example>"));

        Assert.Equal(PathStatus.Ok, Parse($"<a@{Label63}.example>"));
        Assert.Equal(PathStatus.TooLong, Parse($"<a@{Label63}b.example>"));

        // Domain 255 octets; path = 1 + 1 + 1 + 255 + 1 = 259 > 256.
        Assert.Equal(PathStatus.TooLong, Parse($"<a@{Domain255}>"));
        Assert.Equal(PathStatus.TooLong, Parse($"<a@{Domain255}b>"));

        // Whole path exactly 256 octets: "<" + 64 + "@" + 189 + ">" = 256.
        string domain189 = Label63 + "." + Label63 + "." + new string('c', 61);
        Assert.Equal(189, domain189.Length);
        Assert.Equal(PathStatus.Ok, Parse($"<{Local64}@{domain189}>"));
        Assert.Equal(PathStatus.TooLong, Parse($"<{Local64}@{domain189}c>"));

        static PathStatus Parse(string s) => PathParser.TryParse(Encoding.ASCII.GetBytes(s), PathKind.Forward, out _);
    }

    [Theory]
    [InlineData("<jöran@example.com>")]
    [InlineData("<用户@例子.广告>")]
    [InlineData("<a@bücher.example>")]
    [InlineData("<\"jö ran\"@example.com>")]
    [InlineData("<ñ@[192.0.2.1]>")]
    public void Utf8Paths(string arg) => Assert.True(ParsedOk(Encoding.UTF8.GetBytes(arg), PathKind.Forward).HasNonAscii);

    [Theory]
    [InlineData(new byte[] { (byte)'<', 0xC3, (byte)'@', (byte)'b', (byte)'>' })] // truncated sequence
    [InlineData(new byte[] { (byte)'<', (byte)'a', (byte)'@', 0xFF, (byte)'b', (byte)'>' })] // invalid byte
    [InlineData(new byte[] { (byte)'<', 0xC0, 0xAF, (byte)'@', (byte)'b', (byte)'>' })] // overlong
    [InlineData(new byte[] { (byte)'<', 0xED, 0xA0, 0x80, (byte)'@', (byte)'b', (byte)'>' })] // surrogate
    [InlineData(new byte[] { (byte)'<', (byte)'"', 0x80, (byte)'"', (byte)'@', (byte)'b', (byte)'>' })] // lone continuation
    public void InvalidUtf8(byte[] arg)
    {
        Assert.Equal(PathStatus.InvalidUtf8, PathParser.TryParse(arg, PathKind.Forward, out _));
    }

    [Fact]
    public void Utf8InAddressLiteralIsSyntaxError()
    {
        byte[] bytes = Encoding.UTF8.GetBytes("<a@[1.2.3.ö]>");
        Assert.Equal(PathStatus.SyntaxError, PathParser.TryParse(bytes, PathKind.Forward, out _));
    }

    [Fact]
    public void TryParseDoesNotAllocate()
    {
        byte[][] inputs =
        [
            "<first.last@sub.example.com> SIZE=12345 BODY=8BITMIME"u8.ToArray(),
            "<a@[192.0.2.1]>"u8.ToArray(),
            "<a@[IPv6:2001:db8::1]>"u8.ToArray(),
            "<\"quoted local\"@example.com>"u8.ToArray(),
            Encoding.UTF8.GetBytes("<jöran@bücher.example>"),
            "<@r.example:a@b.example>"u8.ToArray(),
            "<>"u8.ToArray(),
            "<postmaster>"u8.ToArray(),
            "<a%b@c>"u8.ToArray(),
            "bad"u8.ToArray(),
        ];

        int ok = Run(inputs);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000; i++)
        {
            ok += Run(inputs);
        }

        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, after - before);
        Assert.True(ok > 0);

        static int Run(byte[][] inputs)
        {
            int ok = 0;
            foreach (byte[] input in inputs)
            {
                PathKind kind = input.AsSpan().StartsWith("<postmaster"u8) ? PathKind.Forward : PathKind.Reverse;
                if (PathParser.TryParse(input, kind, out ParsedPath path) == PathStatus.Ok)
                {
                    ok++;
                    var e = new EsmtpParameterEnumerator(path.Parameters(input));
                    while (e.MoveNext())
                    {
                        if (e.Current.Is("SIZE"u8) && EsmtpParameters.TryParseSize(e.Current.Value, out long size))
                        {
                            ok += (int)(size & 1);
                        }
                    }
                }
            }

            return ok;
        }
    }
}
