
using AbilisFast.Protocol.Addressing;
using AbilisFast.Protocol.Commands;
using AbilisFast.Protocol.Esmtp;
using AbilisFast.Protocol.Lines;
using AbilisFast.Protocol.Replies;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Configuration;
using AbilisFast.Server.Delivery;
using AbilisFast.Server.Diagnostics;
using AbilisFast.Server.Mailboxes;
using AbilisFast.Server.Queue;

namespace AbilisFast.Server.Sessions;

internal sealed partial class InSession
{
    /// <summary>Runs one command line and says what the loop must do next.</summary>
    private Step Execute(ReadOnlySpan<byte> line)
    {
        SmtpVerb verb = CommandParser.Parse(line, out ReadOnlySpan<byte> argument);
        if (_context.Log.Verbose)
        {
            TraceCommand(verb, line, argument);
        }

        if (verb == SmtpVerb.Unknown)
        {
            if (LooksLikeHttp(line))
            {
                Reply(SmtpReplies.HttpRefused);
                return Step.Close;
            }

            return Error(SmtpReplies.Unrecognized);
        }

        if (verb == SmtpVerb.Bdat)
        {
            // BDAT carries its chunk even when refused: it drains it before answering.
            return Bdat(argument);
        }

        if (!InCommandTable.IsAllowed(State, verb))
        {
            return Error(SequenceError(verb));
        }

        switch (verb)
        {
            case SmtpVerb.Helo:
            case SmtpVerb.Ehlo:
                return Hello(verb == SmtpVerb.Ehlo, argument);
            case SmtpVerb.Mail:
                return Mail(argument);
            case SmtpVerb.Rcpt:
                return Rcpt(argument);
            case SmtpVerb.Data:
                return Data(argument);
            case SmtpVerb.Rset:
                if (!argument.IsEmpty)
                {
                    return Error(SmtpReplies.NoArguments);
                }

                ResetTransaction();
                Reply(SmtpReplies.ResetOk);
                return Step.Continue;
            case SmtpVerb.Noop:
                Reply(SmtpReplies.Ok);
                return Step.Continue;
            case SmtpVerb.Quit:
                Reply(SmtpReplies.Bye);
                return Step.Close;
            case SmtpVerb.Vrfy:
                if (argument.IsEmpty)
                {
                    return Error("501 5.5.4 Syntax: VRFY address\r\n"u8);
                }

                Reply(SmtpReplies.Vrfy);
                return Step.Continue;
            case SmtpVerb.Help:
                Reply(SmtpReplies.Help);
                return Step.Continue;
            case SmtpVerb.StartTls:
                return StartTls(argument);
            case SmtpVerb.Auth:
                return Auth(argument);
            default:
                // EXPN is refused by policy.
                return Error(SmtpReplies.NotImplemented);
        }
    }

    /// <summary>Traces a command line; for AUTH only the verb and mechanism (an initial response holds the password).</summary>
    private void TraceCommand(SmtpVerb verb, ReadOnlySpan<byte> line, ReadOnlySpan<byte> argument)
    {
        int space = verb == SmtpVerb.Auth ? argument.IndexOf((byte)' ') : -1;
        if (space < 0)
        {
            Trace("<- "u8, line);
            return;
        }

        ReadOnlySpan<byte> hidden = " [initial response not logged]"u8;
        Span<byte> shown = stackalloc byte[LineReader.MaxCommandLine + 32];
        int n = line.Length - argument.Length + space;
        line[..n].CopyTo(shown);
        hidden.CopyTo(shown[n..]);
        Trace("<- "u8, shown[..(n + hidden.Length)]);
    }

    private ReadOnlySpan<byte> SequenceError(SmtpVerb verb) => verb switch
    {
        SmtpVerb.Mail => SmtpReplies.NestedMail,
        SmtpVerb.Rcpt => SmtpReplies.NeedMail,
        SmtpVerb.Data when State == SmtpState.WaitRcpt => SmtpReplies.NeedRcpt,
        SmtpVerb.Data when State == SmtpState.Data => SmtpReplies.DataAfterBdat,
        SmtpVerb.Data or SmtpVerb.Bdat => SmtpReplies.NeedMail,
        _ => SmtpReplies.BadSequence,
    };

    private static bool LooksLikeHttp(ReadOnlySpan<byte> line) =>
        line.StartsWith("GET "u8) || line.StartsWith("POST "u8) || line.StartsWith("HEAD "u8)
        || line.StartsWith("PUT "u8) || line.StartsWith("CONNECT "u8) || line.StartsWith("OPTIONS "u8);

    private Step Hello(bool extended, ReadOnlySpan<byte> argument)
    {
        argument = argument.Trim((byte)' ');
        if (!IsValidHeloArgument(argument))
        {
            return Error(extended ? SmtpReplies.EhloSyntax : SmtpReplies.HeloSyntax);
        }

        ResetTransaction();
        _helo.Set(argument);
        _heloLength = argument.Length;
        _esmtp = extended;
        SetState(SmtpState.WaitMail);
        Reply(extended ? _context.EhloReplyFor(StartTlsOffered, AuthOffered) : _context.HeloReply);
        return Step.Continue;
    }

    /// <summary>
    /// A host name or address literal: printable, no spaces, at most 255 octets, valid UTF-8 (an
    /// internationalised name is fine; it goes into the envelope, which holds UTF-8 text only).
    /// </summary>
    private static bool IsValidHeloArgument(ReadOnlySpan<byte> argument)
    {
        if (argument.IsEmpty || argument.Length > 255 || !System.Text.Unicode.Utf8.IsValid(argument))
        {
            return false;
        }

        foreach (byte b in argument)
        {
            if (b <= (byte)' ' || b == 0x7F)
            {
                return false;
            }
        }

        return true;
    }

    private Step Mail(ReadOnlySpan<byte> argument)
    {
        if (_submission && !_authenticated)
        {
            return Error(SmtpReplies.AuthRequired);
        }

        if (_context.Settings.TlsRequired && !Transport.IsSecure)
        {
            return Error(SmtpReplies.TlsRequired);
        }

        if (!CommandParser.TryStripKeyword(argument, "FROM:"u8, out ReadOnlySpan<byte> rest))
        {
            return Error(SmtpReplies.MailSyntax);
        }

        PathStatus status = PathParser.TryParse(rest, PathKind.Reverse, out ParsedPath path);
        if (status is not (PathStatus.Ok or PathStatus.RoutingCharacters))
        {
            return Error(SmtpReplies.BadSender);
        }

        ParameterStatus parsed = MailParameters.Parse(path.Parameters(rest), AuthOffered, out MailParameters parameters);
        if (parsed != ParameterStatus.Ok)
        {
            return Error(ParameterError(parsed));
        }

        bool smtpUtf8 = parameters.SmtpUtf8;
        long declaredSize = parameters.Size;
        if (path.HasNonAscii && !smtpUtf8)
        {
            return Error(SmtpReplies.Utf8Required);
        }

        if (declaredSize > _context.Settings.MsgMaxSizeBytes)
        {
            CountRefusedMail(RecipientFlags.None);
            return Error(SmtpReplies.SizeExceeded);
        }

        if (!_context.Settings.Sink && _context.Spool is { } spool && !spool.HasRoomFor(declaredSize))
        {
            CountRefusedMail(RecipientFlags.None);
            return Error(SmtpReplies.InsufficientStorage);
        }

        ReadOnlySpan<byte> sender = path.IsNullPath ? default : path.Mailbox(rest);
        if (_submission && SubmissionRefusal(sender) is { } refusal)
        {
            return refusal;
        }

        _smtpUtf8 = smtpUtf8;
        _declaredSize = declaredSize;
        EnvelopeFlags flags = (smtpUtf8 ? EnvelopeFlags.SmtpUtf8 : 0) | (parameters.EightBitMime ? EnvelopeFlags.EightBitMime : 0)
            | (Transport.IsSecure ? EnvelopeFlags.Tls : 0);
        _envelope.Begin(flags, _context.Time.GetUtcNow(), _remote, _helo.AsSpan(0, _heloLength), sender, declaredSize,
            parameters.Return, parameters.EnvelopeId);
        if (parameters.HasAuth)
        {
            RecordAuthSender(parameters.Auth);
        }

        SetState(SmtpState.WaitRcpt);
        Reply(SmtpReplies.SenderOk);
        return Step.Continue;
    }

    private Step Rcpt(ReadOnlySpan<byte> argument)
    {
        if (!CommandParser.TryStripKeyword(argument, "TO:"u8, out ReadOnlySpan<byte> rest))
        {
            return Error(SmtpReplies.RcptSyntax);
        }

        PathStatus status = PathParser.TryParse(rest, PathKind.Forward, out ParsedPath path);
        if (status == PathStatus.RoutingCharacters)
        {
            return Error(SmtpReplies.RoutingRefused);
        }

        if (status != PathStatus.Ok)
        {
            return Error(SmtpReplies.BadRecipient);
        }

        ParameterStatus parsed = RcptParameters.Parse(path.Parameters(rest), out RcptParameters parameters);
        if (parsed != ParameterStatus.Ok)
        {
            return Error(ParameterError(parsed));
        }

        if (path.HasNonAscii && !_smtpUtf8)
        {
            return Error(SmtpReplies.Utf8Required);
        }

        if (_envelope.RecipientCount >= _context.Settings.MaxRcpt)
        {
            Reply(SmtpReplies.TooManyRecipients);
            return Step.Continue;
        }

        RecipientFlags kind;
        if (path.IsPostmaster || _context.Settings.IsLocalDomain(path.Domain(rest)))
        {
            kind = RecipientFlags.Local;
            if (!_context.Settings.Sink && LocalRecipientRefused(path.Mailbox(rest), path.IsPostmaster) is { } refusal)
            {
                return refusal;
            }
        }
        else if (_relayAllowed || (_authenticated && (_context.Settings.RelayAuth || _submission)))
        {
            kind = RecipientFlags.Relay;
        }
        else
        {
            if (!_relayRefusedCounted)
            {
                _relayRefusedCounted = true;
                _context.Count(_channel, SmtpCounter.RelayFail, Direction.In);
            }

            return Error(SmtpReplies.RelayDenied);
        }

        _envelope.AddRecipient(path.Mailbox(rest), kind, parameters.Notify, parameters.OriginalRecipient);
        SetState(SmtpState.Rcpt);
        Reply(SmtpReplies.RecipientOk);
        return Step.Continue;
    }

    /// <summary>
    /// A local recipient this server cannot take: with STORE-MB:NO and no SERVER there is nowhere to
    /// put it (550 5.1.1); with STORE-MB:YES a mailbox already over MB-MAXSIZE or MB-MAXMAILS for a
    /// message of the declared size gets 452 4.2.2. Null when the recipient is fine. The bare
    /// &lt;postmaster&gt; (RFC 5321 4.5.1: it must be accepted) always has a mailbox here.
    /// </summary>
    private Step? LocalRecipientRefused(ReadOnlySpan<byte> mailbox, bool postmaster)
    {
        SmtpSettings settings = _context.Settings;
        if (!settings.StoreMb && !postmaster)
        {
            return settings.RelayServer is null ? Error(SmtpReplies.NoLocalMailboxes) : null;
        }

        if (_context.Mailboxes is not { } mailboxes)
        {
            return null;
        }

        int at = mailbox.LastIndexOf((byte)'@');
        if (mailboxes.CheckRoom(at < 0 ? mailbox : mailbox[..at], _declaredSize) != MailboxRoom.Ok)
        {
            Reply(SmtpReplies.MailboxFull);
            return Step.Continue;
        }

        return null;
    }

    private static ReadOnlySpan<byte> ParameterError(ParameterStatus status) => status switch
    {
        ParameterStatus.BadDsn => SmtpReplies.BadDsnParameter,
        ParameterStatus.BadAuth => SmtpReplies.BadAuthParameter,
        _ => SmtpReplies.UnknownParameter,
    };
}
