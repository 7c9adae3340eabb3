namespace AbilisFast.Server.Tests.Delivery;

/// <summary>
/// The failure notification taken apart again by a small MIME splitter (below) and, once, by
/// python3's email package: headers, the three parts, the delivery-status groups, RET, the line rules.
/// </summary>
public sealed class DeliveryReportTests
{
    private const string OriginalHeaders =
        "Received: from client.example ([192.0.2.1])\r\n\tby mx.local.test (AbilisFast) with ESMTP id 0000002A;\r\n\tSat, 28 Nov 2026 19:16:37 +0000\r\n"
        + "From: sender@client.test\r\n"
        + "To: far@elsewhere.test, near@elsewhere.test\r\n"
        + "Subject: quarterly figures\r\n";

    private const string OriginalBody = "Hello,\r\n\r\nthe figures are attached.\r\n-- \r\nsender\r\n";

    private static readonly DateTimeOffset Arrived = new(2026, 11, 28, 19, 16, 37, TimeSpan.Zero);

    private static ReportedRecipient Far => new()
    {
        Address = "far@elsewhere.test",
        OriginalRecipient = "rfc822;a+2Bb@x.test",
        Status = "5.7.1",
        RemoteMta = "mx.elsewhere.test",
        DiagnosticCode = "554 5.7.1 Relay access denied",
        Reason = "the remote server refused the recipient",
        LastAttempt = Arrived.AddMinutes(2),
    };

    private static ReportedRecipient Near => new()
    {
        Address = "near@elsewhere.test",
        Status = "5.1.1",
        RemoteMta = "mx2.elsewhere.test",
        DiagnosticCode = "550 5.1.1 <near@elsewhere.test>: Recipient address rejected: User unknown",
        Reason = "no such user",
        LastAttempt = Arrived.AddMinutes(3),
    };

    private static NotificationRequest Request(
        string original = OriginalHeaders + "\r\n" + OriginalBody,
        DsnReturn ret = DsnReturn.Unspecified,
        bool lifetime = false,
        IReadOnlyList<ReportedRecipient>? recipients = null,
        byte[]? originalBytes = null) => new()
        {
            ReportingMta = "mx.local.test",
            Sender = "sender@client.test",
            EnvelopeId = "env+2B1",
            Arrival = Arrived,
            ReceivedFromMta = "dns; client.example (192.0.2.1)",
            Recipients = recipients ?? [Far, Near],
            LifetimeExpired = lifetime,
            Return = ret,
            OpenOriginal = () => new MemoryStream(originalBytes ?? Encoding.UTF8.GetBytes(original)),
            Date = new DateTimeOffset(2026, 11, 29, 8, 5, 1, TimeSpan.FromHours(2)),
        };

    [Fact]
    public void TopLevelHeadersAreThoseOfANotification()
    {
        byte[] message = DeliveryReport.Build(Request());
        Mime mime = Mime.Parse(message);

        Assert.Equal("\"Mail Delivery System\" <MAILER-DAEMON@mx.local.test>", mime.Header("From"));
        Assert.Equal("<sender@client.test>", mime.Header("To"));
        Assert.Equal("Undelivered Mail Returned to Sender", mime.Header("Subject"));
        Assert.Equal("Sun, 29 Nov 2026 08:05:01 +0200", mime.Header("Date"));
        Assert.Matches("^<[A-Za-z0-9.]+@mx\\.local\\.test>$", mime.Header("Message-ID"));
        Assert.Equal("auto-replied", mime.Header("Auto-Submitted"));
        Assert.Equal("1.0", mime.Header("MIME-Version"));
        Assert.Contains("Content-Type: multipart/report; report-type=delivery-status;", Encoding.ASCII.GetString(message));
        Assert.StartsWith("multipart/report; report-type=delivery-status; boundary=\"", mime.Header("Content-Type"));
        Assert.Null(mime.Header("Content-Transfer-Encoding"));

        // Two notifications get different Message-IDs and boundaries.
        Mime other = Mime.Parse(DeliveryReport.Build(Request()));
        Assert.NotEqual(mime.Header("Message-ID"), other.Header("Message-ID"));
        Assert.NotEqual(mime.Boundary, other.Boundary);
    }

    [Fact]
    public void ThreePartsInOrderWithTheirContentTypes()
    {
        Mime mime = Mime.Parse(DeliveryReport.Build(Request()));

        Assert.Equal(3, mime.Parts.Count);
        Assert.Equal("text/plain; charset=utf-8", mime.Parts[0].Header("Content-Type"));
        Assert.Equal("7bit", mime.Parts[0].Header("Content-Transfer-Encoding"));
        Assert.Equal("message/delivery-status", mime.Parts[1].Header("Content-Type"));
        Assert.Equal("text/rfc822-headers", mime.Parts[2].Header("Content-Type"));
        Assert.Null(mime.Parts[2].Header("Content-Transfer-Encoding"));
    }

    [Fact]
    public void DeliveryStatusHasTheMessageFieldsAndOneGroupPerRecipient()
    {
        Mime mime = Mime.Parse(DeliveryReport.Build(Request()));
        string status = mime.Parts[1].Text;
        List<List<string>> groups = status.Split("\r\n\r\n")
            .Select(group => group.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).ToList())
            .Where(group => group.Count > 0)
            .ToList();

        Assert.Equal(3, groups.Count);
        Assert.Equal(
            [
                "Reporting-MTA: dns; mx.local.test",
                "Original-Envelope-Id: env+2B1",
                "Received-From-MTA: dns; client.example (192.0.2.1)",
                "Arrival-Date: Sat, 28 Nov 2026 19:16:37 +0000",
            ],
            groups[0]);
        Assert.Equal(
            [
                "Original-Recipient: rfc822; a+2Bb@x.test",
                "Final-Recipient: rfc822; far@elsewhere.test",
                "Action: failed",
                "Status: 5.7.1",
                "Remote-MTA: dns; mx.elsewhere.test",
                "Diagnostic-Code: smtp; 554 5.7.1 Relay access denied",
                "Last-Attempt-Date: Sat, 28 Nov 2026 19:18:37 +0000",
            ],
            groups[1]);
        Assert.Equal(
            [
                "Final-Recipient: rfc822; near@elsewhere.test",
                "Action: failed",
                "Status: 5.1.1",
                "Remote-MTA: dns; mx2.elsewhere.test",
                "Diagnostic-Code: smtp; 550 5.1.1 <near@elsewhere.test>: Recipient address rejected: User unknown",
                "Last-Attempt-Date: Sat, 28 Nov 2026 19:19:37 +0000",
            ],
            groups[2]);
    }

    [Fact]
    public void TextPartNamesEachRecipientWithReasonHostAndReply()
    {
        Mime mime = Mime.Parse(DeliveryReport.Build(Request()));
        string text = Unwrap(mime.Parts[0].Text);

        AssertText.ContainsAll(
            text,
            "<far@elsewhere.test>: the remote server refused the recipient",
            "Remote host: mx.elsewhere.test",
            "Remote reply: 554 5.7.1 Relay access denied",
            "<near@elsewhere.test>: no such user",
            "Remote reply: 550 5.1.1 <near@elsewhere.test>: Recipient address rejected: User unknown",
            "header section of the undelivered message is attached");
        Assert.DoesNotContain("lifetime", text);
    }

    [Fact]
    public void ReturnHeadersCarriesTheHeaderSectionOnly()
    {
        foreach (DsnReturn ret in new[] { DsnReturn.Headers, DsnReturn.Unspecified })
        {
            Mime mime = Mime.Parse(DeliveryReport.Build(Request(ret: ret)));
            Part original = mime.Parts[2];
            Assert.Equal("text/rfc822-headers", original.Header("Content-Type"));
            Assert.Equal(OriginalHeaders, original.Text);
            Assert.DoesNotContain("figures are attached", original.Text);
        }
    }

    [Fact]
    public void ReturnFullCarriesTheWholeMessage()
    {
        Mime mime = Mime.Parse(DeliveryReport.Build(Request(ret: DsnReturn.Full)));
        Part original = mime.Parts[2];

        Assert.Equal("message/rfc822", original.Header("Content-Type"));
        Assert.Equal(OriginalHeaders + "\r\n" + OriginalBody, original.Text);
        Assert.Contains("The undelivered message is attached.", mime.Parts[0].Text);
    }

    [Fact]
    public void ReturnFullOverTheCapFallsBackToHeadersAndSaysSo()
    {
        var body = new StringBuilder();
        string line = new string('x', 900) + "\r\n";
        while (body.Length <= DeliveryReport.MaxReturnedOctets)
        {
            body.Append(line);
        }

        byte[] message = DeliveryReport.Build(Request(OriginalHeaders + "\r\n" + body, DsnReturn.Full));
        Mime mime = Mime.Parse(message);

        Assert.Equal("text/rfc822-headers", mime.Parts[2].Header("Content-Type"));
        Assert.Equal(OriginalHeaders, mime.Parts[2].Text);
        Assert.Contains("larger than 10 MiB, so only its header section is attached", Unwrap(mime.Parts[0].Text));
        Assert.True(message.Length < 64 * 1024, $"{message.Length} octets");
    }

    [Fact]
    public void ReturnFullAtExactlyTheCapIsReturnedWhole()
    {
        byte[] original = new byte[DeliveryReport.MaxReturnedOctets];
        Encoding.ASCII.GetBytes(OriginalHeaders + "\r\n").CopyTo(original, 0);
        int start = Encoding.ASCII.GetByteCount(OriginalHeaders + "\r\n");
        for (int i = start; i < original.Length; i++)
        {
            original[i] = (i - start) % 100 == 98 ? (byte)'\r' : (i - start) % 100 == 99 ? (byte)'\n' : (byte)'y';
        }

        original[^2] = (byte)'\r';
        original[^1] = (byte)'\n';
        Mime mime = Mime.Parse(DeliveryReport.Build(Request(ret: DsnReturn.Full, originalBytes: original)));

        Assert.Equal("message/rfc822", mime.Parts[2].Header("Content-Type"));
        Assert.Equal(original, mime.Parts[2].Bytes);
    }

    [Fact]
    public void OriginalIsReadOnlyAsFarAsNeeded()
    {
        // A body that never ends: headers-only stops at the empty line, RET=FULL at the cap.
        NotificationRequest headers = Request(ret: DsnReturn.Headers);
        Mime mime = Mime.Parse(DeliveryReport.Build(new NotificationRequest
        {
            ReportingMta = headers.ReportingMta,
            Sender = headers.Sender,
            Recipients = headers.Recipients,
            Return = DsnReturn.Headers,
            OpenOriginal = () => new EndlessStream(Encoding.ASCII.GetBytes(OriginalHeaders + "\r\n")),
        }));
        Assert.Equal(OriginalHeaders, mime.Parts[2].Text);

        var endless = new EndlessStream(Encoding.ASCII.GetBytes(OriginalHeaders + "\r\n"));
        mime = Mime.Parse(DeliveryReport.Build(new NotificationRequest
        {
            ReportingMta = headers.ReportingMta,
            Sender = headers.Sender,
            Recipients = headers.Recipients,
            Return = DsnReturn.Full,
            OpenOriginal = () => endless,
        }));
        Assert.Equal("text/rfc822-headers", mime.Parts[2].Header("Content-Type"));
        Assert.Equal(OriginalHeaders, mime.Parts[2].Text);
        Assert.InRange(endless.Position, DeliveryReport.MaxReturnedOctets + 1L, DeliveryReport.MaxReturnedOctets + 1L);
        Assert.True(endless.Disposed);
    }

    [Fact]
    public void LifetimeExpiryHasItsSubjectAndStatus()
    {
        ReportedRecipient expired = new()
        {
            Address = "far@elsewhere.test",
            Status = "4.4.7",
            Reason = "message lifetime expired: no server answered",
            LastAttempt = Arrived.AddDays(5),
        };
        Mime mime = Mime.Parse(DeliveryReport.Build(Request(lifetime: true, recipients: [expired])));

        Assert.Equal("Undelivered Mail: message lifetime expired", mime.Header("Subject"));
        Assert.Contains("\r\nStatus: 4.4.7\r\n", mime.Parts[1].Text);
        Assert.Contains("\r\nAction: failed\r\n", mime.Parts[1].Text);
        Assert.DoesNotContain("Remote-MTA", mime.Parts[1].Text);
        Assert.DoesNotContain("Diagnostic-Code", mime.Parts[1].Text);
        Assert.Contains("message lifetime expired", Unwrap(mime.Parts[0].Text));
    }

    [Fact]
    public void OptionalFieldsAreLeftOutWhenAbsent()
    {
        NotificationRequest bare = new()
        {
            ReportingMta = "mx.local.test",
            Sender = "sender@client.test",
            Recipients = [new ReportedRecipient { Address = "far@elsewhere.test", Status = "5.4.4", Reason = "no route" }],
            OpenOriginal = () => new MemoryStream("Subject: x\r\n\r\nbody\r\n"u8.ToArray()),
        };
        Mime mime = Mime.Parse(DeliveryReport.Build(bare));
        string status = mime.Parts[1].Text;

        Assert.Equal("Reporting-MTA: dns; mx.local.test\r\n\r\nFinal-Recipient: rfc822; far@elsewhere.test\r\nAction: failed\r\nStatus: 5.4.4\r\n", status);
        Assert.NotNull(mime.Header("Date"));
    }

    [Fact]
    public void NonAsciiRecipientUsesTheUtf8AddressType()
    {
        ReportedRecipient jose = new() { Address = "josé@local.test", Status = "5.1.1", Reason = "unknown user", OriginalRecipient = "utf-8;josé@local.test" };
        Mime mime = Mime.Parse(DeliveryReport.Build(Request(recipients: [jose])));

        Assert.Contains("\r\nFinal-Recipient: utf-8; jos\\x{E9}@local.test\r\n", mime.Parts[1].Text);
        Assert.Contains("\r\nOriginal-Recipient: utf-8; jos\\x{E9}@local.test\r\n", mime.Parts[1].Text);
        Assert.DoesNotContain(mime.Parts[1].Bytes, b => b >= 0x80);
        Assert.Contains("<josé@local.test>: unknown user", mime.Parts[0].Text);
        Assert.Equal("8bit", mime.Parts[0].Header("Content-Transfer-Encoding"));
        Assert.Equal("8bit", mime.Header("Content-Transfer-Encoding"));
    }

    [Fact]
    public void EightBitOriginalIsMarked8Bit()
    {
        string original = "Subject: caf\u00e9\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nna\u00efve \u2603\r\n";
        foreach (DsnReturn ret in new[] { DsnReturn.Full, DsnReturn.Headers })
        {
            Mime mime = Mime.Parse(DeliveryReport.Build(Request(original, ret)));
            Assert.Equal("8bit", mime.Parts[2].Header("Content-Transfer-Encoding"));
            Assert.Equal("8bit", mime.Header("Content-Transfer-Encoding"));
            Assert.Equal("7bit", mime.Parts[0].Header("Content-Transfer-Encoding"));
            string expected = ret == DsnReturn.Full ? original : original[..(original.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 2)];
            Assert.Equal(expected, Encoding.UTF8.GetString(mime.Parts[2].Bytes));
        }
    }

    [Fact]
    public void BareLineEndsAndLongLinesAreMadeSafe()
    {
        string longFolded = "X-Long: " + string.Join(' ', Enumerable.Range(0, 600).Select(i => "word" + i));
        string longUnbroken = "X-Token: " + new string('t', 997) + new string('\u00e9', 1500);
        string longBody = string.Concat(Enumerable.Repeat("é☃", 1200));
        string original = "Subject: bare\nX-Bare-CR: one\rX-Next: two\r\n" + longFolded + "\r\n" + longUnbroken + "\n\n"
            + "line with bare LF\nline with bare CR\r" + longBody + "\r\nlast line without end";
        ReportedRecipient noisy = new()
        {
            Address = "far@elsewhere.test",
            Status = "5.0.0",
            Reason = "evil\r\nInjected: header " + new string('r', 1500),
            DiagnosticCode = "550 " + string.Join(' ', Enumerable.Range(0, 400).Select(i => "d" + i)) + "\nBcc: x@y.test",
            RemoteMta = "mx.elsewhere.test\r\nX-Evil: 1",
        };

        foreach (DsnReturn ret in new[] { DsnReturn.Full, DsnReturn.Headers })
        {
            byte[] message = DeliveryReport.Build(Request(original, ret, recipients: [noisy]));
            AssertWireSafe(message);
            Mime mime = Mime.Parse(message);
            Assert.Equal(3, mime.Parts.Count);

            // No field was injected into the notification or its report.
            Assert.DoesNotContain("\r\nBcc:", mime.Parts[1].Text);
            Assert.DoesNotContain("\r\nX-Evil:", mime.Parts[1].Text);
            Assert.DoesNotContain("\r\nInjected:", mime.Parts[0].Text);
            Assert.Contains("Remote-MTA: dns; mx.elsewhere.test  X-Evil: 1\r\n", mime.Parts[1].Text);

            string returned = Encoding.UTF8.GetString(mime.Parts[2].Bytes);
            Assert.StartsWith("Subject: bare\r\nX-Bare-CR: one\r\nX-Next: two\r\n", returned);
            // Folding before whitespace is undone by unfolding: the field is intact.
            Assert.Contains(longFolded + "\r\n", Unfold(returned));
            // A run without whitespace is broken and continued after a space.
            Assert.Contains(longUnbroken.Replace(" ", string.Empty), Unfold(returned).Replace(" ", string.Empty));
            if (ret == DsnReturn.Full)
            {
                Assert.Contains("\r\n\r\nline with bare LF\r\nline with bare CR\r\n", returned);
                Assert.EndsWith("\r\nlast line without end\r\n", returned);
                // The long UTF-8 body line is broken only between characters.
                Assert.Contains(longBody, returned.Replace("\r\n", string.Empty));
                Assert.DoesNotContain('\uFFFD', returned);
            }
            else
            {
                Assert.DoesNotContain("bare LF", returned);
            }
        }
    }

    [Fact]
    public void BoundaryOccursInNoPart()
    {
        // An original that itself is a multipart message with boundary-like lines.
        string original = "Subject: nested\r\nContent-Type: multipart/mixed; boundary=\"=_AbilisFast_\"\r\n\r\n--=_AbilisFast_\r\n\r\nx\r\n--=_AbilisFast_--\r\n";
        for (int i = 0; i < 20; i++)
        {
            byte[] message = DeliveryReport.Build(Request(original, DsnReturn.Full));
            Mime mime = Mime.Parse(message);
            byte[] boundary = Encoding.ASCII.GetBytes(mime.Boundary);
            Assert.Equal(3, mime.Parts.Count);
            foreach (Part part in mime.Parts)
            {
                Assert.True(part.Bytes.AsSpan().IndexOf(boundary) < 0);
                Assert.True(Encoding.ASCII.GetBytes(part.HeaderText).AsSpan().IndexOf(boundary) < 0);
            }

            Assert.Equal(original, mime.Parts[2].Text);
        }
    }

    private static NotificationRequest KindRequest(ReportKind kind, params ReportedRecipient[] recipients)
    {
        NotificationRequest request = Request(ret: DsnReturn.Full);
        return new NotificationRequest
        {
            Kind = kind,
            ReportingMta = request.ReportingMta,
            Sender = request.Sender,
            EnvelopeId = request.EnvelopeId,
            Arrival = request.Arrival,
            Recipients = recipients,
            Return = DsnReturn.Full,
            OpenOriginal = request.OpenOriginal,
            Date = request.Date,
        };
    }

    [Fact]
    public void ASuccessReportSaysDeliveredOrRelayedAndReturnsTheHeadersOnlyWhateverRet()
    {
        Mime mime = Mime.Parse(DeliveryReport.Build(KindRequest(ReportKind.Success,
            new ReportedRecipient { Address = "near@local.test", OriginalRecipient = "rfc822;Near@local.test", Action = ReportAction.Delivered, Status = "2.0.0", Reason = "delivered to mailbox near" },
            new ReportedRecipient { Address = "far@elsewhere.test", Action = ReportAction.Relayed, Status = "2.0.0", RemoteMta = "mx.elsewhere.test", DiagnosticCode = "250 2.0.0 Ok: queued as 4XyZ", Reason = "relayed to mx.elsewhere.test" })));
        Assert.Equal("Successful Mail Delivery Report", mime.Header("Subject"));
        Assert.Equal("auto-replied", mime.Header("Auto-Submitted"));
        Assert.Equal("text/rfc822-headers", mime.Parts[2].Header("Content-Type"));
        Assert.Equal(OriginalHeaders, mime.Parts[2].Text);
        Assert.Contains("was delivered to the recipients below", Unwrap(mime.Parts[0].Text));
        string status = mime.Parts[1].Text;
        Assert.Contains("Original-Envelope-Id: env+2B1\r\n", status);
        Assert.Contains("Original-Recipient: rfc822; Near@local.test\r\nFinal-Recipient: rfc822; near@local.test\r\nAction: delivered\r\nStatus: 2.0.0\r\n", status);
        Assert.Contains("Final-Recipient: rfc822; far@elsewhere.test\r\nAction: relayed\r\nStatus: 2.0.0\r\nRemote-MTA: dns; mx.elsewhere.test\r\nDiagnostic-Code: smtp; 250 2.0.0 Ok: queued as 4XyZ\r\n", status);
        Assert.DoesNotContain("Will-Retry-Until", status);
    }

    [Fact]
    public void ADelayReportIsAWarningWithWillRetryUntil()
    {
        DateTimeOffset until = Arrived.AddDays(5);
        Mime mime = Mime.Parse(DeliveryReport.Build(KindRequest(ReportKind.Delay,
            new ReportedRecipient { Address = "far@elsewhere.test", Action = ReportAction.Delayed, Status = "4.4.1", Reason = "4.4.1 connection refused", WillRetryUntil = until })));
        Assert.Equal("Delayed Mail (still being retried)", mime.Header("Subject"));
        Assert.Equal("text/rfc822-headers", mime.Parts[2].Header("Content-Type"));
        string text = Unwrap(mime.Parts[0].Text);
        Assert.Contains("THIS IS A WARNING ONLY. YOU DO NOT NEED TO RESEND YOUR MESSAGE.", text);
        Assert.Contains("until Thu, 03 Dec 2026 19:16:37 +0000", text);
        Assert.Contains("Action: delayed\r\nStatus: 4.4.1\r\nWill-Retry-Until: Thu, 03 Dec 2026 19:16:37 +0000\r\n", mime.Parts[1].Text);
    }

    [Theory]
    [InlineData(0, 2)] // Failure, Delivered
    [InlineData(2, 0)] // Success, Failed
    [InlineData(1, 3)] // Delay, Relayed
    public void AnActionThatDoesNotFitTheReportIsRefused(int kind, int action) =>
        Assert.Throws<ArgumentException>(() => DeliveryReport.Build(KindRequest((ReportKind)kind,
            new ReportedRecipient { Address = "far@elsewhere.test", Action = (ReportAction)action, Status = "2.0.0", Reason = "x" })));

    [Fact]
    public void NullSenderIsRefused()
    {
        NotificationRequest request = Request();
        NotificationRequest nullSender = new()
        {
            ReportingMta = request.ReportingMta,
            Sender = string.Empty,
            Recipients = request.Recipients,
            OpenOriginal = request.OpenOriginal,
        };

        Assert.Throws<ArgumentException>(() => DeliveryReport.Build(nullSender));
    }

    [Fact]
    public async Task PythonEmailParserReadsAMultipartReportWithThreeParts()
    {
        string original = "Subject: caf\u00e9\r\nFrom: sender@client.test\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nna\u00efve\r\n";
        string dir = Directory.CreateTempSubdirectory("abilisfast-dsn-").FullName;
        try
        {
            string full = Path.Combine(dir, "full.eml");
            string headers = Path.Combine(dir, "headers.eml");
            await File.WriteAllBytesAsync(full, DeliveryReport.Build(Request(original, DsnReturn.Full)));
            await File.WriteAllBytesAsync(headers, DeliveryReport.Build(Request(ret: DsnReturn.Headers)));
            const string script = """
                import sys
                from email import message_from_binary_file, policy
                for path, third in ((sys.argv[1], 'message/rfc822'), (sys.argv[2], 'text/rfc822-headers')):
                    with open(path, 'rb') as f:
                        msg = message_from_binary_file(f, policy=policy.default)
                    assert not msg.defects, msg.defects
                    assert msg.get_content_type() == 'multipart/report', msg.get_content_type()
                    assert msg.get_param('report-type') == 'delivery-status'
                    parts = msg.get_payload()
                    assert len(parts) == 3, len(parts)
                    types = [p.get_content_type() for p in parts]
                    assert types == ['text/plain', 'message/delivery-status', third], types
                    for p in parts:
                        assert not p.defects, (p.get_content_type(), p.defects)
                    assert 'far@elsewhere.test' in parts[0].get_content()
                    blocks = parts[1].get_payload()
                    assert len(blocks) == 3, len(blocks)
                    assert blocks[0]['Reporting-MTA'] == 'dns; mx.local.test'
                    assert blocks[0]['Original-Envelope-Id'] == 'env+2B1'
                    assert blocks[1]['Final-Recipient'] == 'rfc822; far@elsewhere.test'
                    assert blocks[1]['Original-Recipient'] == 'rfc822; a+2Bb@x.test'
                    assert blocks[2]['Final-Recipient'] == 'rfc822; near@elsewhere.test'
                    assert blocks[2]['Status'] == '5.1.1'
                    if third == 'message/rfc822':
                        inner = parts[2].get_payload()[0]
                        assert inner['Subject'] == 'caf\u00e9', inner['Subject']
                        assert inner.get_content().strip() == 'na\u00efve', inner.get_content()
                    print('OK', msg['Subject'], types)
                """;
            (int exit, string output) = await Tool.RunAsync("python3", ["-c", script, full, headers]);
            Assert.True(exit == 0, output);
            Assert.Contains("OK Undelivered Mail Returned to Sender ['text/plain', 'message/delivery-status', 'message/rfc822']", output);
            Assert.Contains("'text/rfc822-headers']", output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Every CR is followed by LF, every LF follows a CR, no line over 998 octets.</summary>
    private static void AssertWireSafe(byte[] message)
    {
        int lineStart = 0;
        for (int i = 0; i < message.Length; i++)
        {
            if (message[i] == (byte)'\r')
            {
                Assert.True(i + 1 < message.Length && message[i + 1] == (byte)'\n', $"bare CR at {i}");
            }
            else if (message[i] == (byte)'\n')
            {
                Assert.True(i > 0 && message[i - 1] == (byte)'\r', $"bare LF at {i}");
                int length = i - 1 - lineStart;
                Assert.True(length <= 998, $"line of {length} octets at {lineStart}");
                lineStart = i + 1;
            }
        }

        Assert.Equal(message.Length, lineStart);
    }

    private static string Unfold(string text) => text.Replace("\r\n ", " ").Replace("\r\n\t", "\t");

    /// <summary>The text part with its word wrapping undone: every run of white space as one space.</summary>
    private static string Unwrap(string text) => System.Text.RegularExpressions.Regex.Replace(text, "\\s+", " ");

    /// <summary>A header section followed by body lines without end.</summary>
    private sealed class EndlessStream(byte[] start) : Stream
    {
        private long _position;

        public bool Disposed { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            for (int i = 0; i < count; i++, _position++)
            {
                buffer[offset + i] = _position < start.Length ? start[_position]
                    : (_position - start.Length) % 80 == 78 ? (byte)'\r'
                    : (_position - start.Length) % 80 == 79 ? (byte)'\n'
                    : (byte)'z';
            }

            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }

    /// <summary>One body part: its header fields and its content.</summary>
    private sealed class Part
    {
        public required string HeaderText { get; init; }
        public required Dictionary<string, string> Headers { get; init; }
        public required byte[] Bytes { get; init; }
        public string Text => Encoding.UTF8.GetString(Bytes);
        public string? Header(string name) => Headers.GetValueOrDefault(name);
    }

    /// <summary>A small MIME splitter: top-level header, boundary from Content-Type, the parts between the delimiters.</summary>
    private sealed class Mime
    {
        public required Dictionary<string, string> Headers { get; init; }
        public required string Boundary { get; init; }
        public required List<Part> Parts { get; init; }
        public string? Header(string name) => Headers.GetValueOrDefault(name);

        public static Mime Parse(byte[] message)
        {
            // Latin-1 maps octets one to one, so offsets stay byte offsets.
            string all = Encoding.Latin1.GetString(message);
            int split = all.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            Assert.True(split > 0, "no end of header section");
            Dictionary<string, string> headers = ParseHeaders(all[..(split + 2)]);
            string contentType = headers["Content-Type"];
            System.Text.RegularExpressions.Match match = System.Text.RegularExpressions.Regex.Match(contentType, "boundary=\"([^\"]+)\"");
            Assert.True(match.Success, contentType);
            string boundary = match.Groups[1].Value;

            string body = all[(split + 2)..];
            string delimiter = "\r\n--" + boundary;
            var parts = new List<Part>();
            int at = body.IndexOf(delimiter, StringComparison.Ordinal);
            Assert.True(at >= 0, "no first delimiter");
            while (true)
            {
                int start = at + delimiter.Length;
                if (body.AsSpan(start).StartsWith("--"))
                {
                    Assert.Equal("--\r\n", body[start..]);
                    break;
                }

                Assert.Equal("\r\n", body.Substring(start, 2));
                start += 2;
                int next = body.IndexOf(delimiter, start, StringComparison.Ordinal);
                Assert.True(next >= 0, "part without a closing delimiter");
                string partText = body[start..next];
                int headerEnd = partText.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                Assert.True(headerEnd >= 0, "part without header section");
                parts.Add(new Part
                {
                    HeaderText = partText[..(headerEnd + 2)],
                    Headers = ParseHeaders(partText[..(headerEnd + 2)]),
                    Bytes = Encoding.Latin1.GetBytes(partText[(headerEnd + 4)..]),
                });
                at = next;
            }

            return new Mime { Headers = headers, Boundary = boundary, Parts = parts };
        }

        private static Dictionary<string, string> ParseHeaders(string section)
        {
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            string unfolded = section.Replace("\r\n\t", " ").Replace("\r\n ", " ");
            foreach (string line in unfolded.Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
            {
                int colon = line.IndexOf(':');
                Assert.True(colon > 0, $"not a header field: {line}");
                Assert.True(headers.TryAdd(line[..colon], line[(colon + 1)..].Trim()), $"repeated field {line[..colon]}");
            }

            return headers;
        }
    }
}
