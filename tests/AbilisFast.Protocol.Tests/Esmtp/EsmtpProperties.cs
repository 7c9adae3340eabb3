using CsCheck;

namespace AbilisFast.Protocol.Tests.Esmtp;

/// <summary>
/// Properties of the MAIL and RCPT parameter parsers: a model of well-formed parameter lists, every
/// prefix, every cut of the command line into segments, case, and random bytes.
/// </summary>
public sealed class EsmtpProperties
{
    /// <summary>One well-formed MAIL parameter with what the model expects it to set.</summary>
    private sealed record MailParam(string Text, string Key, string Shown);

    private static readonly Gen<string> Xtext = Gen.Frequency(
        (8, Gen.Char["abcXYZ019.-_@<>~!#"].Select(c => c.ToString())),
        (1, Gen.Char["0123456789ABCDEF"].Array[2].Select(h => "+" + new string(h)))).Array[1, 20].Select(string.Concat);

    private static readonly Gen<MailParam> Param = Gen.OneOf(
        Gen.Long[0, long.MaxValue].Select(n => new MailParam("SIZE=" + n, "size", " size=" + n)),
        Gen.Const(new MailParam("BODY=8BITMIME", "body", " 8bit")),
        Gen.Const(new MailParam("BODY=7BIT", "body", string.Empty)),
        Gen.Const(new MailParam("SMTPUTF8", "utf8", " utf8")),
        Gen.OneOf(Gen.Const("FULL"), Gen.Const("HDRS")).Select(v => new MailParam("RET=" + v, "ret", v == "FULL" ? " ret=Full" : " ret=Headers")),
        Xtext.Select(x => new MailParam("ENVID=" + x, "envid", " envid=" + x)),
        Gen.OneOf(Gen.Const("<>"), Xtext).Select(x => new MailParam("AUTH=" + x, "auth", " auth=" + x)));

    /// <summary>A list where RET, ENVID and AUTH stand at most once (SIZE, BODY, SMTPUTF8 may repeat: the last wins).</summary>
    private static readonly Gen<MailParam[]> Params = Param.Array[0, 8].Where(ps =>
        ps.Count(p => p.Key == "ret") <= 1 && ps.Count(p => p.Key == "envid") <= 1 && ps.Count(p => p.Key == "auth") <= 1);

    private static readonly Gen<string> Spaces = Gen.Int[1, 3].Select(n => new string(' ', n));

    private static string Join(MailParam[] ps, string[] gaps) =>
        string.Concat(ps.Select((p, i) => gaps[i % gaps.Length] + p.Text));

    /// <summary>What the model says the parser gives for a well-formed list.</summary>
    private static string Model(IEnumerable<MailParam> ps)
    {
        var last = new Dictionary<string, string>();
        foreach (MailParam p in ps)
        {
            last[p.Key] = p.Shown;
        }

        string[] order = ["size", "body", "utf8", "ret", "envid", "auth"];
        return "Ok" + string.Concat(order.Select(k => last.GetValueOrDefault(k, string.Empty)));
    }

    [Fact]
    public void WellFormedListsGiveWhatTheModelSays() =>
        Gen.Select(Params, Spaces.Array[1, 4]).Sample((ps, gaps) =>
            Assert.Equal(Model(ps), EsmtpText.Mail(Join(ps, gaps))));

    [Fact]
    public void KeywordsAndValuesAreCaseInsensitive() =>
        Gen.Select(Params, Gen.Bool.Array[8]).Sample((ps, lower) =>
        {
            // Keywords and the fixed values change case; xtext (ENVID, AUTH) is kept as written.
            string text = string.Concat(ps.Select((p, i) => " " + (!lower[i] ? p.Text
                : p.Key is "envid" or "auth" ? p.Text[..p.Text.IndexOf('=')].ToLowerInvariant() + p.Text[p.Text.IndexOf('=')..]
                : p.Text.ToLowerInvariant())));
            Assert.Equal(Model(ps), EsmtpText.Mail(text));
        });

    [Fact]
    public void EveryPrefixParsesWithoutThrowingAndWholeParametersGiveTheModel() =>
        Params.Sample(ps =>
        {
            string text = Join(ps, [" "]);
            var boundaries = new Dictionary<int, string>();
            for (int k = 0; k <= ps.Length; k++)
            {
                boundaries[Join(ps[..k], [" "]).Length] = Model(ps[..k]);
            }

            for (int length = 0; length <= text.Length; length++)
            {
                string result = EsmtpText.Mail(text[..length]);
                if (boundaries.TryGetValue(length, out string? expected))
                {
                    Assert.Equal(expected, result);
                }
                else
                {
                    // A cut inside a parameter: an answer (Ok or a status), never an exception.
                    Assert.True(result.StartsWith("Ok", StringComparison.Ordinal) || Enum.TryParse<ParameterStatus>(result, out _), result);
                }
            }
        });

    [Fact]
    public void AnyCutOfTheCommandLineGivesTheSameResult() =>
        Gen.Select(Params, Gen.Int[1, 40]).Sample((ps, segment) =>
        {
            byte[] line = Encoding.ASCII.GetBytes("MAIL FROM:<a@b.test>" + Join(ps, [" "]) + "\r\n");
            string whole = EsmtpText.MailLine(new ReadOnlySequence<byte>(line));
            Assert.Equal(line.Length <= 512 ? Model(ps) : "no line", whole);
            Assert.Equal(whole, EsmtpText.MailLine(Sequences.Split(line, segment)));
            for (int at = 1; at < line.Length; at += Math.Max(1, line.Length / 16))
            {
                Assert.Equal(whole, EsmtpText.MailLine(Sequences.SplitAt(line, at)));
            }
        });

    [Fact]
    public void RandomBytesNeverThrowAndResultsPointIntoTheInput() =>
        Gen.Frequency(
            (1, Gen.Byte.Array[0, 600]),
            (3, Gen.Char[" =+,;<>ABEFHILMNOPRSTUYZ0123456789abc\u007f\u00e9"].Array[0, 120].Select(c => Encoding.Latin1.GetBytes(c))))
        .Sample(bytes =>
        {
            foreach (bool auth in (bool[])[true, false])
            {
                if (MailParameters.Parse(bytes, auth, out MailParameters mail) == ParameterStatus.Ok)
                {
                    Assert.True(mail.EnvelopeId.IsEmpty || bytes.AsSpan().Overlaps(mail.EnvelopeId));
                    Assert.True(!mail.HasAuth || (auth && bytes.AsSpan().Overlaps(mail.Auth)));
                    Assert.True(mail.EnvelopeId.Length <= MailParameters.MaxEnvelopeIdLength);
                    Assert.True(EsmtpParameters.IsValidXtext(mail.EnvelopeId) && EsmtpParameters.IsValidXtext(mail.Auth));
                }
            }

            if (RcptParameters.Parse(bytes, out RcptParameters rcpt) == ParameterStatus.Ok)
            {
                Assert.True(rcpt.OriginalRecipient.IsEmpty || bytes.AsSpan().Overlaps(rcpt.OriginalRecipient));
                Assert.True(rcpt.OriginalRecipient.Length <= RcptParameters.MaxOriginalRecipientLength);
                Assert.True(rcpt.Notify == DsnNotify.None || rcpt.Notify == DsnNotify.Never || (rcpt.Notify & DsnNotify.Never) == 0);
            }

            BdatArgument.TryParse(bytes, out long size, out _);
            Assert.True(size >= 0);
        });
}
