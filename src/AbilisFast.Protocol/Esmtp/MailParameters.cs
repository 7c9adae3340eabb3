namespace AbilisFast.Protocol.Esmtp;

/// <summary>
/// The parameters of one MAIL FROM command (RFC 5321 4.1.2 esmtp-params) and their parser: SIZE
/// (RFC 1870), BODY=7BIT or 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), RET and ENVID (RFC 3461) and,
/// where the server offers AUTH, AUTH= (RFC 4954 5). RET, ENVID and AUTH
/// may stand once; a later SIZE, BODY or SMTPUTF8 replaces an earlier one. Spans point into the
/// parsed text; nothing is allocated.
/// </summary>
internal readonly ref struct MailParameters
{
    /// <summary>RFC 3461 4.4: ENVID is xtext of at most 100 characters.</summary>
    public const int MaxEnvelopeIdLength = 100;

    /// <summary>SIZE=, 0 when not given.</summary>
    public long Size { get; init; }

    public bool HasSize { get; init; }

    /// <summary>BODY=8BITMIME (false for BODY=7BIT and for no BODY).</summary>
    public bool EightBitMime { get; init; }

    public bool SmtpUtf8 { get; init; }

    public DsnReturn Return { get; init; }

    /// <summary>ENVID= as the client wrote it (xtext), empty when not given.</summary>
    public ReadOnlySpan<byte> EnvelopeId { get; init; }

    /// <summary>Whether AUTH= was given (only accepted when the server offers AUTH).</summary>
    public bool HasAuth { get; init; }

    /// <summary>AUTH= as written: "&lt;&gt;" or the xtext of a mailbox.</summary>
    public ReadOnlySpan<byte> Auth { get; init; }

    /// <summary>AUTH=&lt;&gt;: the client says it does not know who submitted the message.</summary>
    public bool AuthIsUnknown => HasAuth && Auth.SequenceEqual("<>"u8);

    /// <summary>Parses <paramref name="parameters"/> (the text after the reverse-path).</summary>
    /// <param name="authOffered">Whether this session offers AUTH; otherwise AUTH= is an unknown parameter.</param>
    public static ParameterStatus Parse(ReadOnlySpan<byte> parameters, bool authOffered, out MailParameters result)
    {
        result = default;
        var builder = new Builder();
        var enumerator = new EsmtpParameterEnumerator(parameters);
        while (enumerator.MoveNext())
        {
            ParameterStatus status = builder.Add(enumerator.Current, authOffered);
            if (status != ParameterStatus.Ok)
            {
                return status;
            }
        }

        if (enumerator.Malformed)
        {
            return ParameterStatus.Unsupported;
        }

        result = builder.Build();
        return ParameterStatus.Ok;
    }

    private ref struct Builder
    {
        private long _size;
        private bool _hasSize;
        private bool _eightBit;
        private bool _smtpUtf8;
        private DsnReturn _return;
        private ReadOnlySpan<byte> _envelopeId;
        private bool _hasEnvelopeId;
        private ReadOnlySpan<byte> _auth;
        private bool _hasAuth;

        public ParameterStatus Add(EsmtpParameter p, bool authOffered)
        {
            if (p.Is("SIZE"u8) && p.HasValue)
            {
                _hasSize = true;
                return EsmtpParameters.TryParseSize(p.Value, out _size) ? ParameterStatus.Ok : ParameterStatus.Unsupported;
            }

            if (p.Is("BODY"u8) && p.HasValue)
            {
                _eightBit = p.ValueIs("8BITMIME"u8);
                return _eightBit || p.ValueIs("7BIT"u8) ? ParameterStatus.Ok : ParameterStatus.Unsupported;
            }

            if (p.Is("SMTPUTF8"u8) && !p.HasValue)
            {
                _smtpUtf8 = true;
                return ParameterStatus.Ok;
            }

            if (p.Is("RET"u8) && p.HasValue && _return == DsnReturn.Unspecified)
            {
                // RFC 3461 4.3: FULL or HDRS.
                _return = p.ValueIs("FULL"u8) ? DsnReturn.Full : p.ValueIs("HDRS"u8) ? DsnReturn.Headers : DsnReturn.Unspecified;
                return _return == DsnReturn.Unspecified ? ParameterStatus.BadDsn : ParameterStatus.Ok;
            }

            if (p.Is("ENVID"u8) && p.HasValue && !_hasEnvelopeId)
            {
                _hasEnvelopeId = true;
                _envelopeId = p.Value;
                return p.Value.Length <= MaxEnvelopeIdLength && EsmtpParameters.IsValidXtext(p.Value)
                    ? ParameterStatus.Ok : ParameterStatus.BadDsn;
            }

            if (authOffered && p.Is("AUTH"u8) && p.HasValue && !_hasAuth)
            {
                // RFC 4954 5: AUTH=<> or AUTH=xtext (the xtext of the mailbox that submitted the message).
                _hasAuth = true;
                _auth = p.Value;
                return EsmtpParameters.IsValidXtext(p.Value) ? ParameterStatus.Ok : ParameterStatus.BadAuth;
            }

            return ParameterStatus.Unsupported;
        }

        public readonly MailParameters Build() => new()
        {
            Size = _size,
            HasSize = _hasSize,
            EightBitMime = _eightBit,
            SmtpUtf8 = _smtpUtf8,
            Return = _return,
            EnvelopeId = _envelopeId,
            HasAuth = _hasAuth,
            Auth = _auth,
        };
    }
}
