namespace AbilisFast.Protocol.Addressing;

internal enum PathKind : byte
{
    /// <summary>MAIL FROM: reverse-path; the null path &lt;&gt; is allowed.</summary>
    Reverse,

    /// <summary>RCPT TO: forward-path; &lt;postmaster&gt; without domain is allowed.</summary>
    Forward,
}
