using System.Buffers;
using System.Globalization;
using System.Text;
using AbilisFast.Server.Access;
using AbilisFast.Server.Display;
using AbilisFast.Server.Runtime;

namespace AbilisFast.Server.Admin;

/// <summary>
/// The console commands, Abilis style. Every command reads snapshots of shared state, so nothing
/// here can stall an SMTP session. Output lines end in CRLF; an unknown command or a bad argument
/// gets one error line.
/// </summary>
internal sealed class AdminCommands(SmtpContext context, long startTicks, LiveConfiguration? configuration = null, Access.IpBanService? bans = null)
{
    public static readonly string Header = SmtpDisplay.DashedLine("RES:Smtp ");
    public static readonly string IpbanHeader = SmtpDisplay.DashedLine("RES:Ipban ");

    /// <summary>A console block: a blank line, the resource header, then the body lines.</summary>
    private static string Block(string header, string body) => "\r\n" + header + "\r\n" + body;

    /// <summary>The result of one command: its text, and whether the session ends.</summary>
    internal readonly record struct Result(string Text, bool Quit = false);

    public Result Execute(string line, UserRights rights)
    {
        string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0)
        {
            return new Result("");
        }

        string verb = words[0].ToLowerInvariant();
        switch (verb)
        {
            case "quit" or "bye" or "logout" or "exit":
                return new Result("Bye\r\n", Quit: true);
            case "help" or "?":
                return new Result(HelpText(rights));
            case "d" or "display":
                return Display(words);
            case "s" or "set":
                return RequireAdmin(rights) ?? SetParameter(words);
            case "save":
                return RequireAdmin(rights) ?? Save(words);
            case "clear" or "c":
                return RequireAdmin(rights) ?? Clear(words);
            case "debug":
                return RequireAdmin(rights) ?? Debug(words, line);
            case "retry" or "del" or "hold" or "rel":
                return RequireAdmin(rights) ?? QueueAction(verb, words);
            default:
                return Error($"unknown command '{words[0]}' (type help)");
        }
    }

    private static Result? RequireAdmin(UserRights rights) =>
        rights >= UserRights.Admin ? null : Error("this command needs administrator or super user rights");

    private static Result Error(string text) => new($"ERROR: {text}\r\n");

    private static string HelpText(UserRights rights)
    {
        var text = new StringBuilder();
        text.Append("\r\n");
        text.Append("   D D SMTP                                   - Display the state of the resource\r\n");
        text.Append("   D DE SMTP                                  - Display state and SMTP sessions\r\n");
        text.Append("   D S SMTP                                   - Display statistics\r\n");
        text.Append("   D SE SMTP                                  - Display statistics of every session\r\n");
        text.Append("   D P SMTP                                   - Display the parameters\r\n");
        text.Append("   D D IPBAN                                  - Display the banned addresses\r\n");
        text.Append("   D P IPBAN                                  - Display the IPBAN parameters\r\n");
        text.Append("   D Q SMTP                                   - Display the queue (id, state, size, age, sender, recipients)\r\n");
        text.Append("   D M SMTP                                   - State and statistics as OpenMetrics text\r\n");
        if (rights >= UserRights.Admin)
        {
            text.Append("   S P SMTP NAME:VALUE                        - Set a parameter\r\n");
            text.Append("   SAVE CONF                                  - Save the parameters to the configuration file\r\n");
            text.Append("   CLEAR S SMTP                               - Clear the statistics\r\n");
            text.Append("   CLEAR IPBAN ADDRESS                        - Lift a ban\r\n");
            text.Append("   S P IPBAN NAME:VALUE                       - Set MAX-FAIL, FIND-TIME, BAN-TIME, WHITE-LIST, ACTION or ALERT-TO\r\n");
            text.Append("   RETRY Q SMTP ID|ALL                        - Try deferred mail again now\r\n");
            text.Append("   HOLD Q SMTP ID|ALL                         - Keep queued mail from being delivered\r\n");
            text.Append("   REL Q SMTP ID|ALL                          - Release mail on hold\r\n");
            text.Append("   DEL Q SMTP ID|ALL                          - Delete queued mail (no notification)\r\n");
            text.Append("   DEBUG RES:SMTP [LSN:N] [CMD:...]           - Debug commands (LSN:0 for their help)\r\n");
        }

        text.Append("   HELP                                       - This help\r\n");
        text.Append("   QUIT                                       - End the session\r\n");
        return text.ToString();
    }

    /// <summary><c>RETRY|HOLD|REL|DEL Q SMTP ID|ALL</c>: queue control.</summary>
    private Result QueueAction(string verb, string[] words)
    {
        if (words.Length != 4 || !words[1].Equals("q", StringComparison.OrdinalIgnoreCase) || !words[2].Equals("smtp", StringComparison.OrdinalIgnoreCase))
        {
            return Error($"usage: {verb} q smtp ID|ALL");
        }

        if (context.QueueControl is not { } queue)
        {
            return Error("nothing delivers in this server: there is no queue to control");
        }

        uint? id = null;
        if (!words[3].Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            if (!Spool.SpoolIds.TryParse(words[3], out uint parsed))
            {
                return Error($"'{words[3]}' is not a message id (8 hex digits, as d q smtp shows) or ALL");
            }

            id = parsed;
        }

        try
        {
            (int count, string done) = verb switch
            {
                "retry" => (queue.Retry(id), "moved to QUEUE-OUT"),
                "hold" => (queue.Hold(id), "put on hold"),
                "rel" => (queue.Release(id), "released to QUEUE-OUT"),
                _ => (queue.Delete(id), "deleted"),
            };
            return new Result(string.Create(CultureInfo.InvariantCulture, $"{count} message(s) {done}\r\n"));
        }
        catch (Queue.QueueControlException e)
        {
            return Error(e.Message);
        }
    }

    private Result Display(string[] words)
    {
        if (words.Length == 3 && words[2].Equals("ipban", StringComparison.OrdinalIgnoreCase))
        {
            if (bans is null)
            {
                return Error("IPBAN is not available in this server");
            }

            if (words[1].Equals("d", StringComparison.OrdinalIgnoreCase))
            {
                return Bans();
            }

            if (words[1].Equals("p", StringComparison.OrdinalIgnoreCase))
            {
                var text = new StringBuilder(Block(IpbanHeader, ""));
                foreach (string line in Configuration.IpBanParameters.Format(bans.Options))
                {
                    text.Append("       ").Append(line).Append("\r\n");
                }

                return new Result(text.ToString());
            }
        }

        if (words.Length != 3 || !words[2].Equals("smtp", StringComparison.OrdinalIgnoreCase))
        {
            return Error("usage: d d|de|s|se|p|m|q smtp");
        }

        return words[1].ToLowerInvariant() switch
        {
            "p" => Parameters(),
            "q" => new Result(QueueDisplay.Format(context)),
            "m" => new Result(Metrics.MetricsExposition.Format(Metrics.MetricsSnapshot.Take(context), Metrics.MetricsFormat.OpenMetrics).Replace("\n", "\r\n", StringComparison.Ordinal)),
            "d" => new Result(SmtpDisplay.DisplayResource(SmtpDisplaySnapshot.Take(context))),
            "de" => new Result(SmtpDisplay.DisplayDetailed(SmtpDisplaySnapshot.Take(context))),
            "s" => new Result(SmtpDisplay.DisplayStatistics(SmtpDisplaySnapshot.Take(context))),
            "se" => new Result(SmtpDisplay.DisplayStatisticsPerSession(SmtpDisplaySnapshot.Take(context))),
            _ => Error($"unknown display '{words[1]}': use d, de, s, se, p, m or q"),
        };
    }

    private Result Parameters()
    {
        if (configuration is null)
        {
            return Error("the parameters are not available in this server");
        }

        var text = new StringBuilder(Block(Header, ""));
        foreach (string line in configuration.Format())
        {
            text.Append("       ").Append(line).Append("\r\n");
        }

        text.Append("       (* = takes effect after a restart)\r\n");
        return new Result(text.ToString());
    }

    private Result SetParameter(string[] words)
    {
        if (words.Length >= 4 && words[1].Equals("p", StringComparison.OrdinalIgnoreCase) && words[2].Equals("ipban", StringComparison.OrdinalIgnoreCase))
        {
            if (bans is null)
            {
                return Error("IPBAN is not available in this server");
            }

            // ALERT-TO may be typed with spaces after its commas.
            string token = string.Join(' ', words.Skip(3));
            int colon = token.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return Error($"'{token}' is not NAME:VALUE");
            }

            if (configuration is not null)
            {
                var (set, shown) = configuration.SetIpBan(bans, token[..colon], token[(colon + 1)..]);
                return set ? new Result(Block(IpbanHeader, $"       {shown}\r\n")) : Error(shown);
            }

            if (!Configuration.IpBanParameters.TrySet(bans.Options, token[..colon], token[(colon + 1)..], out Configuration.IpBanOptions updated, out string error))
            {
                return Error(error);
            }

            bans.Options = updated;
            return new Result(Block(IpbanHeader, $"       {Configuration.IpBanParameters.FormatOne(updated, token[..colon])} set, in force now (not kept: this server has no configuration to save)\r\n"));
        }

        if (words.Length < 4 || !words[1].Equals("p", StringComparison.OrdinalIgnoreCase) || !words[2].Equals("smtp", StringComparison.OrdinalIgnoreCase))
        {
            return Error("usage: s p smtp NAME:VALUE");
        }

        if (configuration is null)
        {
            return Error("the parameters are not available in this server");
        }

        var (ok, message) = configuration.Set(string.Join(' ', words.Skip(3)));
        return ok ? new Result(Block(Header, $"       {message}\r\n")) : Error(message);
    }

    private Result Save(string[] words)
    {
        if (words.Length != 2 || !(words[1].Equals("conf", StringComparison.OrdinalIgnoreCase) || words[1].Equals("smtp", StringComparison.OrdinalIgnoreCase)))
        {
            return Error("usage: save conf");
        }

        if (configuration is null)
        {
            return Error("the parameters are not available in this server");
        }

        string path = configuration.SavePath(context.Settings.WorkDir);
        SaveResult saved;
        try
        {
            saved = configuration.Save(context.Settings.WorkDir);
        }
        catch (UnauthorizedAccessException)
        {
            return Error($"cannot save the configuration to {path}: permission denied for the user the server runs as; nothing was saved (the file stays as it was)");
        }
        catch (IOException e) when (e.HResult == ReadOnlyFileSystem)
        {
            return Error($"cannot save the configuration to {path}: the file system is read-only; nothing was saved"
                + " (the systemd unit leaves only WDIR writable: change the file as root, then systemctl reload abilisfast)");
        }
        catch (IOException e)
        {
            return Error($"cannot save the configuration to {path}: {e.Message}; nothing was saved (the file stays as it was)");
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"       Configuration saved to {saved.Path} (mode 0600, it may hold SERVER-PWD): {saved.Parameters} parameter(s) and {saved.IpBanLines} IPBAN parameter(s) set in the file or on the console\r\n");
        if (saved.NotSaved.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"       Not saved, given on the command line for this run only: {string.Join(", ", saved.NotSaved)}\r\n");
        }

        if (configuration.ConfigPath is null)
        {
            text.Append(CultureInfo.InvariantCulture, $"       This server did not start with --config: start with --config {saved.Path} to use it\r\n");
        }

        return new Result(Block(Header, text.ToString()));
    }

    /// <summary>EROFS: what an IOException's HResult holds for a write on a read-only mount.</summary>
    private const int ReadOnlyFileSystem = 30;

    private Result Bans()
    {
        if (bans is null)
        {
            return Error("IPBAN is not available in this server");
        }

        IReadOnlyList<Access.BanEntry> list = bans.List();
        var text = new StringBuilder(Block(IpbanHeader, ""));
        text.Append(CultureInfo.InvariantCulture, $"       MAX-FAIL:{bans.Options.MaxFail}  FIND-TIME:{(int)bans.Options.FindTime.TotalMinutes}  BAN-TIME:{(int)bans.Options.BanTime.TotalMinutes}  BANNED:{list.Count}\r\n");
        if (list.Count > 0)
        {
            text.Append("       ADDRESS                                  SINCE               UNTIL               FAILS\r\n");
            foreach (Access.BanEntry ban in list)
            {
                text.Append(CultureInfo.InvariantCulture,
                    $"       {ban.Address,-40} {ban.Since.ToLocalTime():dd/MM/yyyy HH:mm:ss} {ban.Until.ToLocalTime():dd/MM/yyyy HH:mm:ss} {ban.Failures}\r\n");
            }
        }

        return new Result(text.ToString());
    }

    private Result Clear(string[] words)
    {
        if (words.Length == 3 && words[1].Equals("ipban", StringComparison.OrdinalIgnoreCase))
        {
            if (bans is null)
            {
                return Error("IPBAN is not available in this server");
            }

            if (!System.Net.IPAddress.TryParse(words[2], out System.Net.IPAddress? address))
            {
                return Error($"'{words[2]}' is not an IP address");
            }

            return bans.Lift(address)
                ? new Result(Block(IpbanHeader, $"       {address} unbanned\r\n"))
                : Error($"{address} is not banned");
        }

        if (words.Length != 3 || !words[1].Equals("s", StringComparison.OrdinalIgnoreCase) || !words[2].Equals("smtp", StringComparison.OrdinalIgnoreCase))
        {
            return Error("usage: clear s smtp");
        }

        DateTimeOffset now = context.Time.GetLocalNow();
        context.Counters.Clear(now);
        foreach (var channel in context.Channels.Channels)
        {
            channel.ClearCounters(now);
        }

        return new Result(Block(Header, "       Statistics cleared\r\n"));
    }

    private Result Debug(string[] words, string line)
    {
        if (words.Length < 2 || !words[1].Equals("res:smtp", StringComparison.OrdinalIgnoreCase))
        {
            return Error("usage: debug res:smtp [lsn:N] [cmd:...]");
        }

        if (words.Length == 2)
        {
            return new Result(DebugHelp());
        }

        string lsn = words[2].ToLowerInvariant();
        string? cmd = words.Length > 3 ? string.Join(' ', words.Skip(3)) : null;
        return (lsn, cmd?.ToLowerInvariant()) switch
        {
            ("lsn:0", null) => new Result(DebugHelp()),
            ("lsn:1", null) => ToggleVerbose(),
            ("lsn:3", null) => new Result(DebugHeader() + "\r\n" + LogText()),
            ("lsn:3", "cmd:clr") => ClearLog(),
            ("lsn:4", _) => SendInternalMail(line),
            _ => Error($"unknown debug command '{string.Join(' ', words.Skip(2))}' (debug res:smtp lsn:0 lists them)"),
        };
    }

    /// <summary>
    /// <c>debug res:smtp lsn:4 cmd:From:To:Subject:Message</c>: builds a text mail and submits it as
    /// internal mail (counted INT). To may list several addresses separated by commas; the message
    /// is the rest of the line (it may hold colons).
    /// </summary>
    private Result SendInternalMail(string line)
    {
        int cmd = line.IndexOf("cmd:", StringComparison.OrdinalIgnoreCase);
        string[] parts = cmd < 0 ? [] : line[(cmd + 4)..].Split(':', 4);
        if (parts.Length != 4 || parts[0].Trim().Length == 0 || parts[1].Trim().Length == 0)
        {
            return Error("usage: debug res:smtp lsn:4 cmd:From:To:Subject:Message");
        }

        string from = parts[0].Trim();
        string[] to = parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        DateTimeOffset now = context.Time.GetUtcNow();
        string text = string.Create(CultureInfo.InvariantCulture,
            $"From: <{from}>\r\nTo: {string.Join(", ", to.Select(a => $"<{a}>"))}\r\nSubject: {parts[2].Trim()}\r\n" +
            $"Date: {now:ddd, dd MMM yyyy HH:mm:ss} +0000\r\nMessage-ID: <{Guid.NewGuid():N}@{context.Settings.HeloHost}>\r\n" +
            $"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{parts[3].Trim()}\r\n");
        try
        {
            uint id = Submission.InternalMail.SubmitAsync(context, from, to, Encoding.UTF8.GetBytes(text), Submission.InternalKind.Internal)
                .WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
            return new Result(DebugHeader() + $"       Internal mail queued as {id:X8}\r\n");
        }
        catch (Submission.InternalMailException e)
        {
            return Error($"internal mail not sent: {e.Message}");
        }
        catch (TimeoutException)
        {
            return Error("internal mail not sent: the spool did not commit within 30 s");
        }
    }

    private Result ToggleVerbose()
    {
        context.Log.Verbose = !context.Log.Verbose;
        return new Result(DebugHeader() + $"       Debug:{(context.Log.Verbose ? "ON" : "OFF")}\r\n");
    }

    private Result ClearLog()
    {
        context.Log.Clear();
        return new Result(DebugHeader() + "       Session log cleared\r\n");
    }

    private string LogText()
    {
        var buffer = new ArrayBufferWriter<byte>(SessionLog.BufferLength + 1024);
        context.Log.CopyTo(buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The seed's debug header: buffer length, date/time, and the trace time (ms since start).</summary>
    private string DebugHeader()
    {
        DateTimeOffset now = context.Time.GetLocalNow();
        long trace = Environment.TickCount64 - startTicks;
        return Block(Header, string.Create(CultureInfo.InvariantCulture,
            $"       BufferLength:{SessionLog.BufferLength}  Date/Time:{now:dd/MM/yyyy HH:mm:ss} TraceTime:{trace}\r\n"));
    }

    private string DebugHelp() => DebugHeader() +
        "\r\n\r\n" +
        "   LSN:0                                      - This help\r\n" +
        "   LSN:1                                      - Debug\r\n" +
        "   LSN:3                                      - Show session log\r\n" +
        "   LSN:3 CMD:CLR                              - Clear session log\r\n" +
        "   LSN:4 CMD:From:To:Subject:Message          - Send internal mail\r\n" +
        "\r\n" +
        "To use these commands you need to have administrator or super user rights.\r\n";
}
