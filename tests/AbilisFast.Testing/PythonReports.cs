namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// Reads a Maildir with Python's <c>mailbox.Maildir</c> and takes every message apart with Python's
/// <c>email</c> package (policy.default, defects reported), so that the reports this server writes
/// are checked by a real parser and not by our own code. One <see cref="Report"/> per message.
/// </summary>
internal static class PythonReports
{
    private const string Script = """
        import sys, json, mailbox, email
        from email import policy
        md = mailbox.Maildir(sys.argv[1], factory=None, create=False)
        out = []
        for key in sorted(md.keys()):
            msg = email.message_from_bytes(md.get_bytes(key), policy=policy.default)
            r = {'defects': [str(d) for d in msg.defects],
                 'headers': {k: str(v) for k, v in msg.items()},
                 'content_type': msg.get_content_type(),
                 'report_type': msg.get_param('report-type'),
                 'parts': [], 'per_message': {}, 'recipients': [], 'text': '', 'returned': ''}
            if msg.is_multipart():
                parts = msg.get_payload()
                r['parts'] = [p.get_content_type() for p in parts]
                for p in parts:
                    r['defects'] += [str(d) for d in p.defects]
                    ct = p.get_content_type()
                    if ct == 'text/plain':
                        r['text'] = p.get_content()
                    elif ct == 'message/delivery-status':
                        blocks = p.get_payload()
                        r['per_message'] = {k: str(v) for k, v in blocks[0].items()}
                        r['recipients'] = [{k: str(v) for k, v in b.items()} for b in blocks[1:]]
                    elif ct == 'text/rfc822-headers':
                        r['returned'] = p.get_content()
                    elif ct == 'message/rfc822':
                        r['returned'] = p.get_payload()[0].as_string()
            out.append(r)
        print(json.dumps(out))
        """;

    /// <summary>Every message in the Maildir at <paramref name="maildir"/> (the folder holding new/ and cur/), in name order.</summary>
    public static async Task<IReadOnlyList<Report>> ReadAsync(string maildir)
    {
        (int exit, string output) = await Tool.RunAsync("python3", ["-c", Script, maildir]);
        Assert.True(exit == 0, output);
        using JsonDocument document = JsonDocument.Parse(output);
        return [.. document.RootElement.EnumerateArray().Select(e => new Report(e.Clone()))];
    }

    /// <summary>One message as Python's email package read it.</summary>
    internal sealed class Report(JsonElement json)
    {
        public IReadOnlyList<string> Defects => [.. json.GetProperty("defects").EnumerateArray().Select(d => d.GetString()!)];

        public string? Header(string name) =>
            json.GetProperty("headers").EnumerateObject().FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

        public string ContentType => json.GetProperty("content_type").GetString()!;

        public string? ReportType => json.GetProperty("report_type").GetString();

        public IReadOnlyList<string> Parts => [.. json.GetProperty("parts").EnumerateArray().Select(p => p.GetString()!)];

        /// <summary>The per-message fields of the delivery-status part (Reporting-MTA, Arrival-Date ...).</summary>
        public IReadOnlyDictionary<string, string> PerMessage => Fields(json.GetProperty("per_message"));

        /// <summary>One dictionary of fields per recipient group of the delivery-status part.</summary>
        public IReadOnlyList<IReadOnlyDictionary<string, string>> Recipients =>
            [.. json.GetProperty("recipients").EnumerateArray().Select(Fields)];

        /// <summary>The human-readable part.</summary>
        public string Text => json.GetProperty("text").GetString()!;

        /// <summary>The returned header section (or whole message), as text.</summary>
        public string Returned => json.GetProperty("returned").GetString()!;

        private static Dictionary<string, string> Fields(JsonElement element) =>
            element.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.OrdinalIgnoreCase);
    }
}
