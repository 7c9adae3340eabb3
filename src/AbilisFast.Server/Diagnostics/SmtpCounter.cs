namespace AbilisFast.Server.Diagnostics;

/// <summary>The SMTP resource counters, in the order the console prints them (two per row).</summary>
internal enum SmtpCounter
{
    CallSucc,
    CallFail,
    ExtSucc,
    ExtFail,
    Notify,
    NotifyLt,
    NotifySucc,
    NotifyFail,
    LocalSucc,
    LocalFail,
    RelaySucc,
    RelayFail,
    IntSucc,
    IntFail,
    DeniedIp,
    BannedIp,
}

internal enum Direction
{
    In,
    Out,
}
