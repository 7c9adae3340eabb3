namespace AbilisFast.Protocol.States;

/// <summary>
/// Every SMTP-State a channel can show, with the names of the Abilis manual (seed 36.4.1).
/// IN sessions use WaitHelo..Data; OUT sessions use Start..Ended; Ready/Inactive/Down are shared.
/// </summary>
internal enum SmtpState : byte
{
    Ready,
    Inactive,
    Down,
    WaitHelo,
    WaitMail,
    WaitRcpt,
    Rcpt,
    Data,
    Start,
    WaitConn,
    Helo,
    Mail,
    Text,
    Eot,
    Quit,
    Ended,
}

/// <summary>Every TCP-State a channel can show (seed 36.4.1).</summary>
internal enum TcpState : byte
{
    Down,
    Ready,
    Listen,
    Called,
    Calling,
    Connected,
    Clearing,
    Cleared,
    Undefined,
}

internal static class StateNames
{
    /// <summary>The label the console prints for an SMTP-State.</summary>
    public static string Label(this SmtpState state) => state switch
    {
        SmtpState.Ready => "READY",
        SmtpState.Inactive => "INACTIVE",
        SmtpState.Down => "DOWN",
        SmtpState.WaitHelo => "WAITHELO",
        SmtpState.WaitMail => "WAITMAIL",
        SmtpState.WaitRcpt => "WAITRCPT",
        SmtpState.Rcpt => "RCPT",
        SmtpState.Data => "DATA",
        SmtpState.Start => "START",
        SmtpState.WaitConn => "WAITCONN",
        SmtpState.Helo => "HELO",
        SmtpState.Mail => "MAIL",
        SmtpState.Text => "TEXT",
        SmtpState.Eot => "EOT",
        SmtpState.Quit => "QUIT",
        SmtpState.Ended => "ENDED",
        _ => "UNDEFINED",
    };

    /// <summary>The label the console prints for a TCP-State.</summary>
    public static string Label(this TcpState state) => state switch
    {
        TcpState.Down => "DOWN",
        TcpState.Ready => "READY",
        TcpState.Listen => "LISTEN",
        TcpState.Called => "CALLED",
        TcpState.Calling => "CALLING",
        TcpState.Connected => "CONNECTED",
        TcpState.Clearing => "CLEARING",
        TcpState.Cleared => "CLEARED",
        _ => "UNDEFINED",
    };
}
