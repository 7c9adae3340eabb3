using System.Reflection;
using System.Text;
using AbilisFast.Server.Access;

namespace AbilisFast.Server.Configuration;

/// <summary>
/// The sample configuration file that <c>abilisfast --sample-config</c> prints and the release
/// tarballs ship: every parameter of <see cref="ParameterTable"/> (and the IPBAN ones) with its
/// meaning, default, allowed values and whether a change is live or needs a restart, each as a
/// commented-out <c>#NAME:DEFAULT</c> line. Loaded as it is, the file changes nothing; removing the
/// leading <c>#</c> of any setting line gives a line the loader takes.
/// </summary>
/// <remarks>
/// Setting lines start with <c>#</c> directly followed by the setting; prose lines with <c>"# "</c>
/// or are a lone <c>#</c>, so a script (or a test) can tell them apart.
/// </remarks>
internal static class SampleConfig
{
    /// <summary>The example list of the IP lists section (uncommented, it is a valid definition).</summary>
    public const string ExampleIpList = "iplist Office: 192.0.2/24, 2001:db8::/32";

    /// <summary>
    /// NODENAME's default is the host name of the machine that runs the server, so the sample
    /// (printed on another machine) shows a fixed example value instead.
    /// </summary>
    public const string NodeNameExample = "abilisfast";

    /// <summary>SUBMISSION-PORT is 0 (off) by default; the sample's setting line is the standard port.</summary>
    public const string SubmissionPortExample = "587";

    public static string Build()
    {
        // The product version (1.2.3 or 1.2.3-rc.1), without the "+commit" the SDK appends.
        string version = typeof(SampleConfig).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        version = plus > 0 ? version[..plus] : version;
        var text = new StringBuilder();
        text.AppendLine($"# abilisfast.conf: sample configuration of abilisfast {version} (abilisfast --sample-config)");
        text.AppendLine("#");
        text.AppendLine("# Start: abilisfast --config FILE [--wdir DIR] [NAME:VALUE ...]. One or more NAME:VALUE per");
        text.AppendLine("# line; names are case-insensitive; '#' starts a comment at the start of a line or after");
        text.AppendLine("# white space (so RELAY-NET:# is a value); quote a value that holds spaces. Parameters on the");
        text.AppendLine("# command line (--wdir too) override this file. An unknown parameter or a bad value stops");
        text.AppendLine("# the start with one line naming FILE:LINE.");
        text.AppendLine("#");
        text.AppendLine("# Every parameter is below, commented out, with its built-in default: remove the leading");
        text.AppendLine("# '#' and change the value to set one. 'live': a change on the admin console");
        text.AppendLine("# (s p smtp NAME:VALUE) is in force at once; 'restart': it takes effect at the next start.");
        text.AppendLine("# 'save conf' on the console writes the changed parameters back to this file.");
        text.AppendLine();
        text.AppendLine("# ---- IP lists -------------------------------------------------------------------------");
        text.AppendLine("# iplist NAME: net, net, ...   defines a named list for IPSRCLIST, RELAY-IPSRCLIST and the");
        text.AppendLine("# IPBAN WHITE-LIST (define it on a line before the one that names it). Built in:");
        text.AppendLine("# PrivateIpAdd = 10/8, 172.16/12, 192.168/16, 127/8, ::1/128.");
        text.Append('#').AppendLine(ExampleIpList);
        text.AppendLine();
        text.AppendLine("# ---- SMTP parameters -------------------------------------------------------------------");
        foreach (ParameterDefinition d in ParameterTable.All)
        {
            bool nodeName = d.Name == ParameterNames.NodeName;
            bool submission = d.Name == ParameterNames.SubmissionPort;
            string shown = nodeName ? "the machine's host name" : d.DefaultText.Length == 0 ? "(empty)" : d.DefaultText;
            text.AppendLine();
            text.Append("# ").Append(d.Name).Append(": ").AppendLine(d.Meaning);
            text.Append("#   default ").Append(shown).Append("; allowed ").Append(d.Allowed).Append("; ")
                .AppendLine(d.Live ? "live" : "restart");
            // The submission port is off by default; the sample shows the port to uncomment (RFC 6409: 587).
            text.Append('#').Append(d.Name).Append(':')
                .AppendLine(Quote(nodeName ? NodeNameExample : submission ? SubmissionPortExample : d.DefaultText));
        }

        text.AppendLine();
        text.AppendLine("# ---- IPBAN (failed console logins), on 'ipban NAME:VALUE ...' lines; all live -----------");
        text.AppendLine("# MAX-FAIL failures within FIND-TIME minutes from an address not on WHITE-LIST trigger ACTION:");
        text.AppendLine("# BAN bans it for BAN-TIME minutes, MAIL sends an alert mail to ALERT-TO, BOTH does both.");
        text.AppendLine("# Allowed: MAX-FAIL 1..1000; FIND-TIME 1..525600; BAN-TIME 1..5256000; WHITE-LIST nets and");
        text.AppendLine("# IP list names separated by commas, or # (none); ACTION BAN, MAIL or BOTH; ALERT-TO mail");
        text.AppendLine("# addresses separated by commas (at most 32; a bare local part is a local mailbox).");
        foreach (string setting in IpBanParameters.Format(IpBanOptions.Default))
        {
            text.Append('#').Append(ConfigFileReader.IpBanKeyword).Append(' ').AppendLine(setting);
        }

        return text.ToString();
    }

    /// <summary>Quotes a value that holds white space or a quote, as the file's tokenizer reads it.</summary>
    private static string Quote(string value)
    {
        if (!value.Any(c => char.IsWhiteSpace(c) || c == '"'))
        {
            return value;
        }

        return "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }
}
