namespace AbilisFast.Server.Tests.Support;

/// <summary>The client end a test talks SMTP through: a loopback socket or a session's in-memory pipes.</summary>
internal interface ISmtpTalk
{
    /// <summary>Sends exactly these characters (UTF-8).</summary>
    Task SendAsync(string text);

    /// <summary>Reads one whole reply (all its lines); null when the server closed first.</summary>
    Task<string?> ReadReplyAsync();

    /// <summary>Sends one command line and returns its reply.</summary>
    Task<string?> CommandAsync(string command);
}

/// <summary>
/// The mail transaction that the tests would otherwise write out by hand: MAIL FROM, one RCPT TO
/// per recipient and DATA, each reply checked against this server's exact text, then the message
/// text and the final dot.
/// </summary>
internal static class SmtpScript
{
    /// <summary>An address in angle brackets; one that already starts with '&lt;' is taken as it is (with its parameters).</summary>
    private static string Path(string address) => address.StartsWith('<') ? address : $"<{address}>";

    /// <summary>MAIL FROM, RCPT TO for each of <paramref name="to"/> and DATA, up to the 354.</summary>
    public static async Task OpenDataAsync(this ISmtpTalk talk, string from, params string[] to)
    {
        Assert.Equal("250 2.1.0 Ok", await talk.CommandAsync("MAIL FROM:" + Path(from)));
        foreach (string recipient in to)
        {
            Assert.Equal("250 2.1.5 Ok", await talk.CommandAsync("RCPT TO:" + Path(recipient)));
        }

        Assert.StartsWith("354 ", await talk.CommandAsync("DATA"));
    }

    /// <summary>
    /// The whole transaction; <paramref name="text"/> is the message up to the final dot (CRLF lines,
    /// the last one ended). Returns the reply to the dot, for the test to check.
    /// </summary>
    public static async Task<string?> SendMailAsync(this ISmtpTalk talk, string from, string[] to, string text)
    {
        await talk.OpenDataAsync(from, to);
        await talk.SendAsync(text + ".\r\n");
        return await talk.ReadReplyAsync();
    }

    /// <summary>The whole transaction for one recipient; the reply to the dot must be "250 2.0.0 Ok: queued as ...".</summary>
    public static async Task<string> SendQueuedAsync(this ISmtpTalk talk, string from, string to, string text)
    {
        string? reply = await talk.SendMailAsync(from, [to], text);
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply);
        return reply!;
    }
}
