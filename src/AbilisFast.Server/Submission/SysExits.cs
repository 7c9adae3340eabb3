namespace AbilisFast.Server.Submission;

/// <summary>
/// The exit codes of <c>sendmail</c>, from BSD's sysexits.h, as every sendmail(1) returns them
/// (cron, mail(1) and scripts know them). Documented in docs/sendmail.md.
/// </summary>
internal static class SysExits
{
    public const int Ok = 0;

    /// <summary>EX_USAGE: a wrong command line (unknown option, missing value, no recipients).</summary>
    public const int Usage = 64;

    /// <summary>EX_DATAERR: the message itself is unusable (empty).</summary>
    public const int DataErr = 65;

    /// <summary>EX_NOUSER: a recipient address that is not an address.</summary>
    public const int NoUser = 67;

    /// <summary>EX_SOFTWARE: an internal error.</summary>
    public const int Software = 70;

    /// <summary>EX_IOERR: standard input could not be read.</summary>
    public const int IoErr = 74;

    /// <summary>EX_CANTCREAT: the pickup folder refuses the file (permissions).</summary>
    public const int CantCreat = 73;

    /// <summary>EX_TEMPFAIL: try again later (WDIR missing, disk full, I/O error).</summary>
    public const int TempFail = 75;

    /// <summary>EX_CONFIG: the configuration file named or found cannot be read.</summary>
    public const int Config = 78;
}
