using AbilisFast.Protocol.Esmtp;

namespace AbilisFast.Fuzz;

/// <summary>
/// The ESMTP syntax target: the first byte picks the parser (0 MAIL with AUTH offered, 1 MAIL
/// without, 2 RCPT, 3 BDAT; the byte modulo 4), the rest is the parameter text. Beyond "nothing
/// escapes", it checks that an accepted result holds only what the RFCs allow and points into the input.
/// </summary>
internal static class EsmtpHarness
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        ReadOnlySpan<byte> text = data[1..];
        switch (data[0] % 4)
        {
            case 0:
            case 1:
                CheckMail(text, authOffered: data[0] % 4 == 0);
                break;
            case 2:
                CheckRcpt(text);
                break;
            default:
                if (BdatArgument.TryParse(text, out long size, out _) && size < 0)
                {
                    throw new FuzzInvariantException($"BDAT size {size} accepted");
                }

                break;
        }
    }

    private static void CheckMail(ReadOnlySpan<byte> text, bool authOffered)
    {
        if (MailParameters.Parse(text, authOffered, out MailParameters mail) != ParameterStatus.Ok)
        {
            return;
        }

        Check(mail.Size >= 0 && (mail.HasSize || mail.Size == 0), "SIZE out of range");
        Check(mail.EnvelopeId.IsEmpty || (text.Overlaps(mail.EnvelopeId) && mail.EnvelopeId.Length <= MailParameters.MaxEnvelopeIdLength
            && EsmtpParameters.IsValidXtext(mail.EnvelopeId)), "ENVID not xtext of at most 100 characters from the input");
        Check(!mail.HasAuth || (authOffered && text.Overlaps(mail.Auth) && !mail.Auth.IsEmpty && EsmtpParameters.IsValidXtext(mail.Auth)),
            "AUTH= accepted where not offered, empty, or not xtext from the input");
        Check(Enum.IsDefined(mail.Return), "RET out of range");
    }

    private static void CheckRcpt(ReadOnlySpan<byte> text)
    {
        if (RcptParameters.Parse(text, out RcptParameters rcpt) != ParameterStatus.Ok)
        {
            return;
        }

        Check(rcpt.Notify is DsnNotify.None or DsnNotify.Never || (rcpt.Notify & DsnNotify.Never) == 0, "NOTIFY=NEVER with another value");
        Check(rcpt.OriginalRecipient.IsEmpty || (text.Overlaps(rcpt.OriginalRecipient)
            && RcptParameters.IsValidOriginalRecipient(rcpt.OriginalRecipient)), "ORCPT not addr-type;xtext from the input");
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(message);
        }
    }
}
