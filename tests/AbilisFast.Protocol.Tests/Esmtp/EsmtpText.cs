namespace AbilisFast.Protocol.Tests.Esmtp;

/// <summary>Parses parameters and describes the result as one comparable string.</summary>
internal static class EsmtpText
{
    public static string Mail(string parameters, bool authOffered = true) => Mail(Encoding.Latin1.GetBytes(parameters), authOffered);

    public static string Mail(ReadOnlySpan<byte> parameters, bool authOffered = true)
    {
        ParameterStatus status = MailParameters.Parse(parameters, authOffered, out MailParameters p);
        if (status != ParameterStatus.Ok)
        {
            return status.ToString();
        }

        var text = new StringBuilder("Ok");
        if (p.HasSize)
        {
            text.Append(" size=").Append(p.Size);
        }

        text.Append(p.EightBitMime ? " 8bit" : string.Empty).Append(p.SmtpUtf8 ? " utf8" : string.Empty);
        text.Append(p.Return == DsnReturn.Unspecified ? string.Empty : " ret=" + p.Return);
        text.Append(p.EnvelopeId.IsEmpty ? string.Empty : " envid=" + Encoding.ASCII.GetString(p.EnvelopeId));
        text.Append(p.HasAuth ? " auth=" + Encoding.ASCII.GetString(p.Auth) : string.Empty);
        return text.ToString();
    }

    public static string Rcpt(string parameters) => Rcpt(Encoding.Latin1.GetBytes(parameters));

    public static string Rcpt(ReadOnlySpan<byte> parameters)
    {
        ParameterStatus status = RcptParameters.Parse(parameters, out RcptParameters p);
        if (status != ParameterStatus.Ok)
        {
            return status.ToString();
        }

        return "Ok" + (p.Notify == DsnNotify.None ? string.Empty : " notify=" + p.Notify)
            + (p.OriginalRecipient.IsEmpty ? string.Empty : " orcpt=" + Encoding.ASCII.GetString(p.OriginalRecipient));
    }

    /// <summary>A whole MAIL command as the session sees it: line reader, verb, path, then parameters.</summary>
    public static string MailLine(ReadOnlySequence<byte> input)
    {
        Span<byte> scratch = stackalloc byte[LineReader.MaxCommandLine];
        if (LineReader.TryRead(ref input, scratch, LineReader.MaxCommandLine, out ReadOnlySpan<byte> line, out _) != LineStatus.Line)
        {
            return "no line";
        }

        if (CommandParser.Parse(line, out ReadOnlySpan<byte> argument) != SmtpVerb.Mail
            || !CommandParser.TryStripKeyword(argument, "FROM:"u8, out ReadOnlySpan<byte> rest)
            || PathParser.TryParse(rest, PathKind.Reverse, out ParsedPath path) != PathStatus.Ok)
        {
            return "bad command";
        }

        return Mail(path.Parameters(rest));
    }
}
