using System.Globalization;
using System.Text;

namespace AbilisFast.Server.Signing;

/// <summary>
/// <c>abilisfast dkim keygen [--selector S] [--domain D] [--wdir DIR] [--type rsa|ed25519] [--bits N]</c>:
/// makes a DKIM key, writes it to WDIR/dkim/SELECTOR.key with mode 0600 (where the server looks
/// when DKIM-KEY is empty; an existing file is never overwritten) and prints the DNS TXT record to
/// publish, in zone-file form with the key split into strings of at most 255 characters.
/// </summary>
internal static class DkimCommand
{
    public const string Usage = "usage: abilisfast dkim keygen [--selector S] [--domain D] [--wdir DIR] [--type rsa|ed25519] [--bits 1024..4096]";

    private static readonly ArgumentGrammar Grammar = new ArgumentGrammar { MaxPositionals = 0 }
        .Option("--selector", ValueForms.EmptyAllowed)
        .Option("--domain", ValueForms.EmptyAllowed)
        .Option("--wdir", ValueForms.EmptyAllowed)
        .Option("--type", ValueForms.EmptyAllowed, value => value is "rsa" or "ed25519")
        .Option("--bits", ValueForms.EmptyAllowed, value =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int bits) && bits is >= DkimKey.MinRsaBits and <= 4096);

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        if (args.Count == 0 || args[0] != "keygen")
        {
            error.WriteLine($"abilisfast: {Usage}");
            return ExitCodes.Usage;
        }

        ParsedArguments parsed = Grammar.Parse([.. args.Skip(1)]);
        if (parsed.Error is { } bad)
        {
            // The argument that does not fit, and the one after it (as an option's value would be).
            string? next = bad.Number < args.Count - 1 ? args[bad.Number + 1] : null;
            error.WriteLine($"abilisfast: unexpected argument '{bad.Argument}'{(next is null ? string.Empty : " " + next)}; {Usage}");
            return ExitCodes.Usage;
        }

        string selector = parsed.Value("--selector") ?? "default";
        string? domain = parsed.Value("--domain")?.TrimEnd('.').ToLowerInvariant();
        string workDir = parsed.Value("--wdir") ?? ParameterTable.DefaultWorkDir;
        DkimKeyType type = parsed.Value("--type") == "ed25519" ? DkimKeyType.Ed25519 : DkimKeyType.Rsa;
        int bits = parsed.Value("--bits") is { } bitsText ? int.Parse(bitsText, NumberStyles.None, CultureInfo.InvariantCulture) : DkimKey.DefaultRsaBits;
        if (!ParameterValues.IsSelector(selector))
        {
            error.WriteLine($"abilisfast: --selector {selector} is invalid: letters, digits and '-', labels separated by '.'");
            return ExitCodes.Usage;
        }

        if (domain is not null && !ParameterValues.IsDomainName(domain))
        {
            error.WriteLine($"abilisfast: --domain {domain} is not a domain name");
            return ExitCodes.Usage;
        }

        DkimKey key;
        string pem;
        try
        {
            (key, pem) = DkimKey.Generate(type, bits);
        }
        catch (DkimKeyException e)
        {
            error.WriteLine($"abilisfast: {e.Message}");
            return ExitCodes.Usage;
        }

        using (key)
        {
            string path = Path.Combine(Path.GetFullPath(Path.Combine(workDir, SmtpSettings.DkimKeyFolder)), selector + ".key");
            if (WriteKeyFile(path, pem, error) is int failed)
            {
                return failed;
            }

            string what = type == DkimKeyType.Rsa ? $"RSA {key.Bits} bits" : "Ed25519";
            error.WriteLine($"abilisfast: wrote {path} ({what}, mode 0600). Publish this TXT record, then set DKIM-DOMAIN:{domain ?? "DOMAIN"} DKIM-SELECTOR:{selector}:");
            output.Write(ZoneRecord(selector, domain, key.DnsRecord));
        }

        return ExitCodes.Ok;
    }

    /// <summary>
    /// Writes the private key with mode 0600, never over an existing file: null when written, else
    /// the exit code after a line on <paramref name="error"/> that says why.
    /// </summary>
    private static int? WriteKeyFile(string path, string pem, TextWriter error)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var file = new FileStream(path, options);
            file.Write(Encoding.ASCII.GetBytes(pem));
            file.Flush(flushToDisk: true);
            return null;
        }
        catch (IOException) when (File.Exists(path))
        {
            error.WriteLine($"abilisfast: {path} exists; a selector keeps its key (to rotate, make a key for a new selector)");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"abilisfast: cannot write {path}: {e.Message}");
            return ExitCodes.WorkDirUnusable;
        }
    }

    /// <summary>
    /// <c>SELECTOR._domainkey.DOMAIN. IN TXT ( "…" "…" )</c>: a DNS character-string holds 255
    /// octets at most, so a longer record is several strings, which verifiers join (RFC 6376 3.6.2.2).
    /// Without a domain the name is relative to the zone it is put in.
    /// </summary>
    internal static string ZoneRecord(string selector, string? domain, string record)
    {
        var text = new StringBuilder();
        text.Append(selector).Append("._domainkey");
        if (domain is not null)
        {
            text.Append('.').Append(domain).Append('.');
        }

        text.Append(" IN TXT (");
        for (int i = 0; i < record.Length; i += 250)
        {
            text.Append(i == 0 ? " \"" : "\n\t\"").Append(record, i, Math.Min(250, record.Length - i)).Append('"');
        }

        return text.Append(" )\n").ToString();
    }
}
