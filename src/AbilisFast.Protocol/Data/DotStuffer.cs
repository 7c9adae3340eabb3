namespace AbilisFast.Protocol.Data;

/// <summary>Constants and helpers for sending a DATA body (RFC 5321 4.5.2 transparency).</summary>
internal static class DotStuffer
{
    /// <summary>End-of-data line, sent after a body that ends in CRLF.</summary>
    public static ReadOnlySpan<byte> Terminator => ".\r\n"u8;

    /// <summary>CRLF plus end-of-data line, sent after a body that does not end in CRLF.</summary>
    public static ReadOnlySpan<byte> CrLfTerminator => "\r\n.\r\n"u8;

    /// <summary>Bytes that <see cref="DotStuffEncoder.Finish"/> may need.</summary>
    public const int MaxFinishLength = 5;

    /// <summary>Worst case encoded size of a body chunk (every byte a line-leading dot).</summary>
    public static long GetMaxEncodedLength(long length) => length * 2;
}
