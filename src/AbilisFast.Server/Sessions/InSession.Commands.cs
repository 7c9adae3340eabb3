using System.Runtime.CompilerServices;
using AbilisFast.Protocol.Addressing;
using AbilisFast.Protocol.Commands;
using AbilisFast.Protocol.Esmtp;
using AbilisFast.Protocol.Lines;
using AbilisFast.Protocol.Replies;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Delivery;
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
            TraceCommand(verb, line);
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

        if (IsUseful(verb))
        {
            MarkUseful();
        }
        else if (IsJunk(verb) && BeforeJunk() == Step.Close)
        {
            return Step.Close;
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

        return Dispatch(verb, argument);
    }

    /// <summary>The command's own handler, once the verb is known and allowed in this state.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Step Dispatch(SmtpVerb verb, ReadOnlySpan<byte> argument)
    {
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
            case SmtpVerb.Rset or SmtpVerb.Noop or SmtpVerb.Vrfy or SmtpVerb.Help:
                return Junk(verb, argument);
            case SmtpVerb.Quit:
                Reply(SmtpReplies.Bye);
                return Step.Close;
            case SmtpVerb.StartTls:
                return StartTls(argument);
            case SmtpVerb.Auth:
                return Auth(argument);
            default:
                // EXPN is refused by policy.
                return Error(SmtpReplies.NotImplemented);
        }
    }

    /// <summary>NOOP, RSET, VRFY and HELP: answered, then counted against JUNK-CMD-LIMIT (<see cref="AfterJunk"/>).</summary>
    private Step Junk(SmtpVerb verb, ReadOnlySpan<byte> argument)
    {
        switch (verb)
        {
            case SmtpVerb.Rset:
                if (!argument.IsEmpty)
                {
                    return Error(SmtpReplies.NoArguments);
                }

                ResetTransaction();
                Reply(SmtpReplies.ResetOk);
                break;
            case SmtpVerb.Vrfy:
                if (argument.IsEmpty)
                {
                    return Error("501 5.5.4 Syntax: VRFY address\r\n"u8);
                }

                Reply(SmtpReplies.Vrfy);
                break;
            case SmtpVerb.Help:
                Reply(SmtpReplies.Help);
                break;
            default:
                Reply(SmtpReplies.Ok);
                break;
        }

        return AfterJunk();
    }

    /// <summary>Traces a command line; of a line that starts with AUTH, only the verb and mechanism (<see cref="TraceAuth"/>).</summary>
    private void TraceCommand(SmtpVerb verb, ReadOnlySpan<byte> line)
    {
        if (verb == SmtpVerb.Auth || StartsWithAuth(line))
        {
            TraceAuth(line);
            return;
        }

        Trace("<- "u8, line);
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
        _helo.Set(argument, extended);
        SetState(SmtpState.WaitMail);
        Reply(extended ? _context.EhloReplyFor(StartTlsOffered, AuthOffered) : _context.HeloReply);
        return Step.Continue;
    }

    /// <summary>
    /// A host name or address literal: printable, no spaces, at most 255 octets, valid UTF-8 (an
    /// internationalised name is fine; it goes into the envelope, which holds UTF-8 text only),
    /// without C1 controls, line separators or bidi controls (<see cref="UnsafeText"/>).
    /// </summary>
    private static bool IsValidHeloArgument(ReadOnlySpan<byte> argument)
    {
        if (argument.IsEmpty || argument.Length > 255 || !System.Text.Unicode.Utf8.IsValid(argument) || UnsafeText.Contains(argument))
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

        if (SizeRefusal(declaredSize) is { } tooBig)
        {
            return tooBig;
        }

        ReadOnlySpan<byte> sender = path.IsNullPath ? default : path.Mailbox(rest);
        if (_submission && SubmissionRefusal(sender) is { } refusal)
        {
            return refusal;
        }

        BeginTransaction(in parameters, sender);
        return Step.Continue;
    }

    /// <summary>A SIZE= over the message size limit, or more than the spool has room for: refused and counted.</summary>
    private Step? SizeRefusal(long declaredSize)
    {
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

        return null;
    }

    /// <summary>The accepted MAIL: the envelope begins with the sender and its parameters, 250, and RCPT may follow.</summary>
    private void BeginTransaction(in MailParameters parameters, ReadOnlySpan<byte> sender)
    {
        _smtpUtf8 = parameters.SmtpUtf8;
        _declaredSize = parameters.Size;
        EnvelopeFlags flags = (parameters.SmtpUtf8 ? EnvelopeFlags.SmtpUtf8 : 0) | (parameters.EightBitMime ? EnvelopeFlags.EightBitMime : 0)
            | (Transport.IsSecure ? EnvelopeFlags.Tls : 0);
        _envelope.Begin(flags, _context.Time.GetUtcNow(), _remote, _helo.Span, sender, parameters.Size,
            parameters.Return, parameters.EnvelopeId);
        if (parameters.HasAuth)
        {
            RecordAuthSender(parameters.Auth);
        }

        SetState(SmtpState.WaitRcpt);
        Reply(SmtpReplies.SenderOk);
    }

    private Step Rcpt(ReadOnlySpan<byte> argument)
    {
        if (!CommandParser.TryStripKeyword(argument, "TO:"u8, out ReadOnlySpan<byte> rest))
        {
            return RefuseRcpt(argument, SmtpReplies.RcptSyntax);
        }

        PathStatus status = PathParser.TryParse(rest, PathKind.Forward, out ParsedPath path);
        if (status == PathStatus.RoutingCharacters)
        {
            return RefuseRcpt(rest, SmtpReplies.RoutingRefused);
        }

        if (status != PathStatus.Ok)
        {
            return RefuseRcpt(rest, SmtpReplies.BadRecipient);
        }

        ParameterStatus parsed = RcptParameters.Parse(path.Parameters(rest), out RcptParameters parameters);
        if (parsed != ParameterStatus.Ok)
        {
            return RefuseRcpt(rest, ParameterError(parsed));
        }

        if (path.HasNonAscii && !_smtpUtf8)
        {
            return RefuseRcpt(rest, SmtpReplies.Utf8Required);
        }

        if (_rcptCount >= _context.Settings.MaxRcpt)
        {
            if (!_tooManyLogged)
            {
                _tooManyLogged = true;
                LogRefusedRcpt(rest, SmtpReplies.TooManyRecipients);
            }

            Reply(SmtpReplies.TooManyRecipients);
            return Step.Continue;
        }

        if (path.IsPostmaster || _context.Settings.IsLocalDomain(path.Domain(rest)))
        {
            return LocalRecipient(rest, path, parameters.Notify, parameters.OriginalRecipient);
        }

        if (!_relayAllowed && !(_authenticated && (_context.Settings.RelayAuth || _submission)))
        {
            if (!_relayRefusedCounted)
            {
                _relayRefusedCounted = true;
                _context.Count(_channel, SmtpCounter.RelayFail, Direction.In);
            }

            return RefuseRcpt(rest, SmtpReplies.RelayDenied);
        }

        _envelope.AddRecipient(path.Mailbox(rest), RecipientFlags.Relay, parameters.Notify, parameters.OriginalRecipient);
        return RecipientAccepted();
    }

    private static ReadOnlySpan<byte> ParameterError(ParameterStatus status) => status switch
    {
        ParameterStatus.BadDsn => SmtpReplies.BadDsnParameter,
        ParameterStatus.BadAuth => SmtpReplies.BadAuthParameter,
        _ => SmtpReplies.UnknownParameter,
    };
}
