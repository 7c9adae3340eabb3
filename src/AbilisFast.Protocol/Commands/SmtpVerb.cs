namespace AbilisFast.Protocol.Commands;

/// <summary>The SMTP commands the IN side knows. The order is used as a bit index.</summary>
internal enum SmtpVerb : byte
{
    Unknown = 0,
    Helo,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    Auth,
}
