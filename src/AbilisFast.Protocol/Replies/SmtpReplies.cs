namespace AbilisFast.Protocol.Replies;

/// <summary>
/// Every fixed reply of the IN side, as data. Each carries an enhanced status code (RFC 3463).
/// Replies that name the host or a message id are built by the server from these pieces.
/// </summary>
internal static class SmtpReplies
{
    public static ReadOnlySpan<byte> Ok => "250 2.0.0 Ok\r\n"u8;
    public static ReadOnlySpan<byte> SenderOk => "250 2.1.0 Ok\r\n"u8;
    public static ReadOnlySpan<byte> RecipientOk => "250 2.1.5 Ok\r\n"u8;
    public static ReadOnlySpan<byte> ResetOk => "250 2.0.0 Ok: reset\r\n"u8;
    public static ReadOnlySpan<byte> StartData => "354 End data with <CR><LF>.<CR><LF>\r\n"u8;
    public static ReadOnlySpan<byte> QueuedPrefix => "250 2.0.0 Ok: queued as "u8;
    public static ReadOnlySpan<byte> DiscardedPrefix => "250 2.0.0 Ok: accepted (sink mode, not stored) as "u8;
    public static ReadOnlySpan<byte> Bye => "221 2.0.0 Bye\r\n"u8;
    public static ReadOnlySpan<byte> Vrfy => "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"u8;
    public static ReadOnlySpan<byte> Help =>
        "214-2.0.0 Commands: HELO EHLO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP\r\n214 2.0.0 See RFC 5321\r\n"u8;

    public static ReadOnlySpan<byte> Unrecognized => "500 5.5.2 Error: command not recognized\r\n"u8;
    public static ReadOnlySpan<byte> LineTooLong => "500 5.5.2 Error: line too long\r\n"u8;
    public static ReadOnlySpan<byte> BareLineEnd => "500 5.5.2 Error: bare <CR> or <LF> in command; lines must end in <CR><LF>\r\n"u8;
    public static ReadOnlySpan<byte> HeloSyntax => "501 5.5.4 Syntax: HELO hostname\r\n"u8;
    public static ReadOnlySpan<byte> EhloSyntax => "501 5.5.4 Syntax: EHLO hostname\r\n"u8;
    public static ReadOnlySpan<byte> MailSyntax => "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"u8;
    public static ReadOnlySpan<byte> RcptSyntax => "501 5.5.4 Syntax: RCPT TO:<address>\r\n"u8;
    public static ReadOnlySpan<byte> NoArguments => "501 5.5.4 Syntax: this command takes no arguments\r\n"u8;
    public static ReadOnlySpan<byte> BdatSyntax => "501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n"u8;
    public static ReadOnlySpan<byte> BadSender => "501 5.1.7 Bad sender address syntax\r\n"u8;
    public static ReadOnlySpan<byte> BadRecipient => "501 5.1.3 Bad recipient address syntax\r\n"u8;
    public static ReadOnlySpan<byte> NotImplemented => "502 5.5.1 Error: command not implemented\r\n"u8;
    public static ReadOnlySpan<byte> BadSequence => "503 5.5.1 Error: bad sequence of commands\r\n"u8;
    public static ReadOnlySpan<byte> NestedMail => "503 5.5.1 Error: nested MAIL command\r\n"u8;
    public static ReadOnlySpan<byte> NeedMail => "503 5.5.1 Error: need MAIL command\r\n"u8;
    public static ReadOnlySpan<byte> NeedRcpt => "503 5.5.1 Error: need RCPT command\r\n"u8;
    public static ReadOnlySpan<byte> DataAfterBdat => "503 5.5.1 Error: DATA not allowed in a BDAT transaction\r\n"u8;
    public static ReadOnlySpan<byte> UnknownParameter => "555 5.5.4 Unsupported or malformed MAIL/RCPT parameter\r\n"u8;
    public static ReadOnlySpan<byte> BadDsnParameter => "501 5.5.4 Malformed DSN parameter (NOTIFY, ORCPT, RET or ENVID, RFC 3461)\r\n"u8;
    public static ReadOnlySpan<byte> BadAuthParameter => "501 5.5.4 Malformed AUTH= parameter (<> or xtext, RFC 4954)\r\n"u8;
    public static ReadOnlySpan<byte> NoLocalMailboxes => "550 5.1.1 No mailboxes here (STORE-MB:NO) and no SERVER to pass local mail to\r\n"u8;
    public static ReadOnlySpan<byte> UnknownLocalRecipient => "550 5.1.1 Recipient address rejected: no such user here\r\n"u8;
    public static ReadOnlySpan<byte> MailboxFull => "452 4.2.2 Mailbox full, try again later\r\n"u8;
    public static ReadOnlySpan<byte> Utf8Required => "553 5.6.7 Non-ASCII address requires the SMTPUTF8 parameter\r\n"u8;
    public static ReadOnlySpan<byte> RoutingRefused => "550 5.7.1 Error: source routing, % and ! addresses are not accepted\r\n"u8;
    public static ReadOnlySpan<byte> RelayDenied => "554 5.7.1 Error: relay access denied\r\n"u8;
    public static ReadOnlySpan<byte> TooManyRecipients => "452 4.5.3 Error: too many recipients\r\n"u8;
    public static ReadOnlySpan<byte> SizeExceeded => "552 5.3.4 Error: message size exceeds fixed limit\r\n"u8;
    public static ReadOnlySpan<byte> InsufficientStorage => "452 4.3.1 Error: insufficient system storage\r\n"u8;
    public static ReadOnlySpan<byte> WriteError => "451 4.3.0 Error: queue file write error\r\n"u8;

    public static ReadOnlySpan<byte> ReadyToStartTls => "220 2.0.0 Ready to start TLS\r\n"u8;
    public static ReadOnlySpan<byte> StartTlsSyntax => "501 5.5.4 Syntax: STARTTLS (no parameters)\r\n"u8;
    public static ReadOnlySpan<byte> TlsAlreadyActive => "503 5.5.1 Error: TLS already active\r\n"u8;
    public static ReadOnlySpan<byte> TlsRequired => "530 5.7.0 Must issue a STARTTLS command first\r\n"u8;

    public static ReadOnlySpan<byte> AuthContinue => "334 \r\n"u8;
    public static ReadOnlySpan<byte> AuthLoginUser => "334 VXNlcm5hbWU6\r\n"u8;
    public static ReadOnlySpan<byte> AuthLoginPassword => "334 UGFzc3dvcmQ6\r\n"u8;
    public static ReadOnlySpan<byte> AuthOk => "235 2.7.0 Authentication successful\r\n"u8;
    public static ReadOnlySpan<byte> AuthFailed => "535 5.7.8 Error: authentication credentials invalid\r\n"u8;
    public static ReadOnlySpan<byte> AuthCancelled => "501 5.7.0 Authentication cancelled\r\n"u8;
    public static ReadOnlySpan<byte> AuthBadBase64 => "501 5.5.2 Error: cannot decode the base64 response\r\n"u8;
    public static ReadOnlySpan<byte> AuthSyntax => "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n"u8;
    public static ReadOnlySpan<byte> AuthMechanism => "504 5.5.4 Unrecognized authentication mechanism (PLAIN or LOGIN)\r\n"u8;
    public static ReadOnlySpan<byte> AuthEncryptionRequired => "538 5.7.11 Encryption required for requested authentication mechanism\r\n"u8;
    public static ReadOnlySpan<byte> AlreadyAuthenticated => "503 5.5.1 Error: already authenticated\r\n"u8;
    public static ReadOnlySpan<byte> AuthNeedsEhlo => "503 5.5.1 Error: send EHLO first\r\n"u8;
    public static ReadOnlySpan<byte> AuthRequired => "530 5.7.0 Authentication required\r\n"u8;
    public static ReadOnlySpan<byte> AuthBanned => "421 4.7.0 Error: too many failed authentications\r\n"u8;

    public static ReadOnlySpan<byte> NoChannel => "421 4.3.2 Error: no channel available, try again later\r\n"u8;
    public static ReadOnlySpan<byte> TooManyFromIp => "421 4.7.0 Error: too many connections from your address\r\n"u8;
    public static ReadOnlySpan<byte> AccessDenied => "554 5.7.1 Error: access denied\r\n"u8;
    public static ReadOnlySpan<byte> Timeout => "421 4.4.2 Error: timeout exceeded\r\n"u8;
    public static ReadOnlySpan<byte> TooManyErrors => "421 4.7.0 Error: too many errors\r\n"u8;
    public static ReadOnlySpan<byte> PreGreeting => "554 5.5.1 Error: client sent data before the greeting\r\n"u8;
    public static ReadOnlySpan<byte> ShuttingDown => "421 4.3.2 Error: service shutting down\r\n"u8;
    public static ReadOnlySpan<byte> BusyClosingIdle => "421 4.3.2 Error: all channels busy, closing idle session, try again later\r\n"u8;
    public static ReadOnlySpan<byte> TooManyJunkCommands => "421 4.7.0 Error: too many NOOP/RSET/VRFY/HELP commands while all channels are busy\r\n"u8;
    public static ReadOnlySpan<byte> HttpRefused => "554 5.7.0 Error: this is an SMTP server, not HTTP\r\n"u8;
}
