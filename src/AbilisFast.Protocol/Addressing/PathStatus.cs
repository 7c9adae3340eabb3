namespace AbilisFast.Protocol.Addressing;

internal enum PathStatus : byte
{
    Ok,

    /// <summary>Not a valid RFC 5321 / RFC 6531 path (missing brackets, bad local part or domain, garbage after '&gt;').</summary>
    SyntaxError,

    /// <summary>Local part &gt; 64, domain &gt; 255, label &gt; 63 or whole path &gt; 256 octets.</summary>
    TooLong,

    /// <summary>Bytes &gt;= 0x80 that are not well-formed UTF-8.</summary>
    InvalidUtf8,

    /// <summary>Syntactically valid, but the local part contains '%', '!' or (quoted) '@': refused so no source routing trick passes.</summary>
    RoutingCharacters,
}
