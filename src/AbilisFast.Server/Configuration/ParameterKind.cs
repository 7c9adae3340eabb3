namespace AbilisFast.Server.Configuration;

internal enum ParameterKind
{
    /// <summary>YES or NO (case-insensitive).</summary>
    YesNo,

    /// <summary>Decimal integer within [Min, Max].</summary>
    Int,

    /// <summary>TCP port, 1..65535.</summary>
    Port,

    /// <summary>TCP port 1..65535 or <c>#</c> = off (TLS-PORT).</summary>
    PortOrNone,

    /// <summary>A name of host-name characters (HELOHOST, NODENAME).</summary>
    Text,

    /// <summary>Any text without control characters (SERVER-USER); may be empty.</summary>
    FreeText,

    /// <summary>A file or folder path (WDIR, TLS-CERT, TLS-KEY).</summary>
    Path,

    /// <summary>A host name or an IP address; may be empty (SERVER).</summary>
    Host,

    /// <summary>An IP address or <c>#</c> (SRCADD, ADMIN-ADDR, IPSRC).</summary>
    Address,

    /// <summary>The name of a defined IP list or <c>#</c> (IPSRCLIST).</summary>
    IpListRef,

    /// <summary>Comma-separated networks or list names; <c>#</c> = none (RELAY-NET, RELAY-IPSRCLIST).</summary>
    NetList,

    /// <summary>Comma-separated domain names; empty = none (LOCAL-DOMAIN).</summary>
    DomainList,

    /// <summary>One of a fixed set of words (case-insensitive).</summary>
    Enum,

    /// <summary><c>a.b.c.d[:port]</c> or <c>[v6]:port</c>; empty = system resolver (DNS).</summary>
    Endpoint,

    /// <summary>Any text without control characters; shown masked (SERVER-PWD).</summary>
    Password,

    /// <summary>Up to 4 distinct characters of + - _ = . ; may be empty (RECIPIENT-DELIMITER).</summary>
    Delimiters,

    /// <summary>Base64 SHA-256 digests (32 octets each) separated by commas; may be empty (SERVER-TLS-PIN).</summary>
    PinList,

    /// <summary>An IP address, never <c>#</c> (METRICS-ADDR).</summary>
    IpAddress,

    /// <summary>DKIM selectors separated by commas (DKIM-SELECTOR): dot-separated labels of letters, digits and '-'.</summary>
    SelectorList,

    /// <summary>File paths separated by commas; may be empty (DKIM-KEY).</summary>
    PathList,

    /// <summary>User names (1..32 letters, digits, '-', '_' or '.') separated by commas; may be empty (SUBMISSION-ANY-SENDER).</summary>
    NameList,
}
