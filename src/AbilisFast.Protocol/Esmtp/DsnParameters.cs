namespace AbilisFast.Protocol.Esmtp;

/// <summary>RFC 3461 NOTIFY= of one recipient; None = the client gave no NOTIFY parameter.</summary>
[Flags]
internal enum DsnNotify : byte
{
    None = 0,
    Never = 1,
    Success = 2,
    Failure = 4,
    Delay = 8,
}

/// <summary>RFC 3461 RET=: what a failure notification returns of the original message.</summary>
internal enum DsnReturn : byte
{
    /// <summary>Not given: headers only (our default).</summary>
    Unspecified = 0,
    Full = 1,
    Headers = 2,
}
