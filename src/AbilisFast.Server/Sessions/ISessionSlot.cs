namespace AbilisFast.Server.Sessions;

/// <summary>
/// What an inbound session holds while it runs: its channel and its MAX-IP-SES place. The session
/// gives them back as soon as it knows it is ending, before its last reply (the 221 to QUIT, a
/// 421) is sent and before the connection closes, so a client that reconnects the moment it reads
/// that reply finds them free. <see cref="Release"/> may be called more than once; the first call counts.
/// </summary>
internal interface ISessionSlot
{
    void Release();
}
