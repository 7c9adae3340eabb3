using System.Globalization;
using System.Text;
using AbilisFast.Server.Access;
using AbilisFast.Server.Delivery;
using AbilisFast.Server.Runtime;

namespace AbilisFast.Server.Submission;

/// <summary>
/// The IPBAN alert mail (ACTION:MAIL or BOTH): when <see cref="IpBanService.Alert"/> fires, a short
/// text mail from <c>postmaster@HELOHOST</c> to ALERT-TO is submitted as internal mail (counted
/// INT) and delivered like any other. Sending never blocks or throws into the login that raised
/// the alert: it runs on the thread pool and a failure is only logged.
/// </summary>
internal static class IpBanAlertMail
{
    /// <summary>Sends an alert mail for every alert of <paramref name="bans"/>; <paramref name="log"/> gets one line per mail.</summary>
    public static void Attach(IpBanService bans, SmtpContext context, Action<string>? log)
    {
        bans.Alert += alert =>
        {
            IReadOnlyList<string> recipients = bans.Options.AlertTo;
            _ = Task.Run(() => SendAsync(context, alert, recipients, log));
        };
    }

    /// <summary>
    /// Builds and submits one alert mail. Returns the queued message id, or null when it could not
    /// be submitted (the reason is logged); never throws.
    /// </summary>
    public static async Task<uint?> SendAsync(SmtpContext context, BanEvent alert, IReadOnlyList<string> recipients, Action<string>? log)
    {
        try
        {
            string heloHost = context.Settings.HeloHost;
            string sender = SenderFor(heloHost);
            byte[] message = Build(alert, recipients, heloHost, sender, context.Time.GetUtcNow());
            uint id = await InternalMail.SubmitAsync(context, sender, recipients, message, InternalKind.Internal).ConfigureAwait(false);
            log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"ipban: alert mail about {alert.Address} queued as {id:X8} for {string.Join(',', recipients)}"));
            return id;
        }
#pragma warning disable CA1031 // fire and forget: whatever goes wrong is logged, never thrown into the login path
        catch (Exception e)
#pragma warning restore CA1031
        {
            log?.Invoke($"ipban: alert mail about {alert.Address} not sent: {e.Message}");
            return null;
        }
    }

    /// <summary><c>postmaster@HELOHOST</c>, or the null sender when HELOHOST does not make an address.</summary>
    public static string SenderFor(string heloHost)
    {
        string sender = "postmaster@" + heloHost;
        return AddressSyntax.Check(sender, sender: true) is null ? sender : string.Empty;
    }

    /// <summary>The subject line: what happened to which address, after how many failures.</summary>
    public static string Subject(BanEvent alert)
    {
        string failures = alert.Failures.ToString(CultureInfo.InvariantCulture);
        return alert.Until is { } until
            ? $"IPBAN: {alert.Address} banned for {BanMinutes(alert, until).ToString(CultureInfo.InvariantCulture)} minutes after {failures} failed logins"
            : $"IPBAN: {alert.Address} reached MAX-FAIL ({failures} failed logins), not banned";
    }

    /// <summary>The whole message, headers and body, CRLF line ends.</summary>
    public static byte[] Build(BanEvent alert, IReadOnlyList<string> recipients, string heloHost, string sender, DateTimeOffset now)
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        string from = sender.Length == 0 ? $"MAILER-DAEMON@{heloHost}" : sender;
        text.Append(c, $"From: AbilisFast IPBAN <{from}>\r\n");
        text.Append("To: ").Append(string.Join(", ", recipients.Select(r => "<" + (r.Contains('@', StringComparison.Ordinal) ? r : r + "@" + heloHost) + ">"))).Append("\r\n");
        text.Append("Subject: ").Append(Subject(alert)).Append("\r\n");
        text.Append(c, $"Date: {now.UtcDateTime:ddd, dd MMM yyyy HH:mm:ss} +0000\r\n");
        text.Append(c, $"Message-ID: <ipban.{now.ToUnixTimeMilliseconds()}.{Guid.NewGuid():N}@{heloHost}>\r\n");
        text.Append("Auto-Submitted: auto-generated\r\n");
        text.Append("MIME-Version: 1.0\r\n");
        text.Append("Content-Type: text/plain; charset=utf-8\r\n");
        text.Append("Content-Transfer-Encoding: 8bit\r\n");
        text.Append("\r\n");

        text.Append(c, $"IPBAN on {heloHost}: {alert.Address} failed {alert.Failures} times within FIND-TIME.\r\n\r\n");
        text.Append(c, $"Address:      {alert.Address}\r\n");
        text.Append("What failed:  ").Append(alert.Reasons.Count > 0 ? string.Join(", ", alert.Reasons) : alert.What).Append("\r\n");
        text.Append(c, $"Failures:     {alert.Failures} (MAX-FAIL), the first at {Utc(alert.FirstFailure)}, the last at {Utc(alert.At)}\r\n");
        text.Append(c, $"Window:       FIND-TIME {(long)alert.FindTime.TotalMinutes} minutes\r\n");
        if (alert.Until is { } until)
        {
            text.Append(c, $"Banned until: {Utc(until)} (BAN-TIME {BanMinutes(alert, until)} minutes)\r\n");
            text.Append("\r\n");
            text.Append("Connections from this address are dropped on the SMTP and console ports until then.\r\n");
            text.Append(c, $"To lift the ban, on the console: clear ipban {alert.Address}\r\n");
        }
        else
        {
            text.Append("Banned until: not banned (ACTION:MAIL)\r\n");
            text.Append("\r\n");
            text.Append("To ban such addresses as well: s p ipban ACTION:BOTH\r\n");
        }

        text.Append("The bans in force: d d ipban\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static long BanMinutes(BanEvent alert, DateTimeOffset until) =>
        (long)Math.Round((until - alert.At).TotalMinutes);

    private static string Utc(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
