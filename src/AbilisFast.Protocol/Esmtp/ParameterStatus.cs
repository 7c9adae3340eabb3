namespace AbilisFast.Protocol.Esmtp;

/// <summary>
/// What parsing the parameters of MAIL FROM or RCPT TO found. The first bad parameter decides, in the
/// order the client wrote them; each status has its own reply (see <see cref="Replies.SmtpReplies"/>).
/// </summary>
internal enum ParameterStatus : byte
{
    Ok,

    /// <summary>Unknown, repeated, given a value it must not have (or none it needs), or not esmtp-param syntax: 555 5.5.4.</summary>
    Unsupported,

    /// <summary>NOTIFY, ORCPT, RET or ENVID with a value RFC 3461 does not allow: 501 5.5.4.</summary>
    BadDsn,

    /// <summary>AUTH= that is neither &lt;&gt; nor xtext (RFC 4954 5): 501 5.5.4.</summary>
    BadAuth,
}
