using AbilisFast.Protocol.Commands;

namespace AbilisFast.Protocol.States;

/// <summary>
/// Which commands an IN session accepts in which state: one bitmask per state (bit = verb),
/// instead of scattered checks. A verb outside its state's mask is answered 503 5.5.1.
/// As the Abilis manual says, WAITHELO waits for "HELO or MAIL": MAIL without HELO is allowed.
/// While a BDAT transfer is in progress (state DATA between chunks) only BDAT, RSET, NOOP and QUIT
/// are accepted.
/// </summary>
internal static class InCommandTable
{
    private static readonly uint Always = Bit(SmtpVerb.Rset) | Bit(SmtpVerb.Noop) | Bit(SmtpVerb.Quit);
    private static readonly uint Idle = Always | Bit(SmtpVerb.Vrfy) | Bit(SmtpVerb.Expn) | Bit(SmtpVerb.Help)
        | Bit(SmtpVerb.Helo) | Bit(SmtpVerb.Ehlo);

    private static readonly uint[] Masks = BuildMasks();

    private static uint[] BuildMasks()
    {
        var masks = new uint[(int)SmtpState.Ended + 1];
        masks[(int)SmtpState.WaitHelo] = Idle | Bit(SmtpVerb.Mail) | Bit(SmtpVerb.StartTls) | Bit(SmtpVerb.Auth);
        masks[(int)SmtpState.WaitMail] = Idle | Bit(SmtpVerb.Mail) | Bit(SmtpVerb.StartTls) | Bit(SmtpVerb.Auth);
        masks[(int)SmtpState.WaitRcpt] = Idle | Bit(SmtpVerb.Rcpt);
        masks[(int)SmtpState.Rcpt] = Idle | Bit(SmtpVerb.Rcpt) | Bit(SmtpVerb.Data) | Bit(SmtpVerb.Bdat);
        masks[(int)SmtpState.Data] = Always | Bit(SmtpVerb.Bdat);
        return masks;
    }

    private static uint Bit(SmtpVerb verb) => 1u << (int)verb;

    /// <summary>True when <paramref name="verb"/> may be used in <paramref name="state"/>.</summary>
    public static bool IsAllowed(SmtpState state, SmtpVerb verb) =>
        (uint)state < (uint)Masks.Length && (Masks[(int)state] & Bit(verb)) != 0;
}
