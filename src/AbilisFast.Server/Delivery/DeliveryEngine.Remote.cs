using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Channels;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Runtime;

namespace AbilisFast.Server.Delivery;

internal sealed partial class DeliveryEngine
{
    /// <summary>
    /// Remote recipients, grouped by destination: every one to SERVER when it is set (local ones too
    /// under STORE-MB:NO), otherwise per domain to its MX hosts.
    /// </summary>
    private async Task DeliverRemoteAsync(Attempt attempt)
    {
        string? server = _context.Settings.RelayServer;
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        Envelope envelope = attempt.Envelope;
        for (int i = 0; i < envelope.Recipients.Count; i++)
        {
            if (attempt.State.Status[i] != RecipientStatus.Pending)
            {
                continue;
            }

            bool local = (envelope.Recipients[i].Flags & RecipientFlags.Local) != 0;
            if (HasMailboxHere(envelope.Recipients[i]))
            {
                continue; // handled by DeliverLocalAsync
            }

            if (local && server is null)
            {
                attempt.Failed(i, "550 5.1.1 no local mailboxes (STORE-MB:NO) and no SERVER to pass local mail to");
                continue;
            }

            string key = server is not null ? string.Empty : DomainOf(envelope.Recipients[i].Address);
            if (!groups.TryGetValue(key, out List<int>? group))
            {
                groups[key] = group = [];
            }

            group.Add(i);
        }

        if (groups.Count == 0)
        {
            return;
        }

        if (await SignAsync(attempt, groups).ConfigureAwait(false) is not { } signature)
        {
            return;
        }

        foreach ((string domain, List<int> group) in groups)
        {
            await DeliverGroupAsync(attempt, server, domain, group, signature).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The DKIM-Signature fields for the message (empty when DKIM-DOMAIN is not set or the message
    /// is not signed), or null when the key failed: then every recipient waits (4.3.5) until it is fixed.
    /// </summary>
    private async Task<ReadOnlyMemory<byte>?> SignAsync(Attempt attempt, Dictionary<string, List<int>> groups)
    {
        SmtpSettings settings = _context.Settings;
        if (settings.DkimDomains.Count == 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        try
        {
            uint id = attempt.Message.Id;
            Signing.DkimSignature signed = await _dkim.SignAsync(settings, () => _context.Spool!.OpenBody(id), _abort.Token).ConfigureAwait(false);
            _context.Log.Write(attempt.Tag, signed.Fields is null
                ? $"Not DKIM-signed: {signed.Unsigned}"
                : $"DKIM-signed with selector(s) {string.Join(',', settings.DkimSelectors)}");
            ReadOnlyMemory<byte> fields = signed.Fields;
            return fields;
        }
        catch (Signing.DkimKeyException e)
        {
            // As with an unreadable SERVER-TLS-CA: the mail waits until the key is fixed rather than going out unsigned.
            _context.Log.Write(attempt.Tag, $"DKIM signing failed: {e.Message}");
            foreach ((string _, List<int> group) in groups)
            {
                foreach (int i in group)
                {
                    attempt.Deferred(i, $"451 4.3.5 DKIM signing failed: {e.Message}");
                }
            }

            return null;
        }
    }

    private async Task DeliverGroupAsync(Attempt attempt, string? server, string domain, List<int> group, ReadOnlyMemory<byte> signature)
    {
        CancellationToken cancel = _abort.Token;
        if (await RouteAsync(attempt, server, domain, group, cancel).ConfigureAwait(false) is not { } route)
        {
            return;
        }

        IReadOnlyList<DeliveryTarget> targets = WithoutSelf(attempt, server, domain, group, route.Targets);
        if (targets.Count == 0)
        {
            return;
        }

        OutboundMessage outbound = BuildOutbound(attempt, group, signature);
        (bool sent, SmtpClientException? lastError, string? lastHost) =
            await TryTargetsAsync(attempt, server is not null, group, targets, outbound, cancel).ConfigureAwait(false);
        if (sent)
        {
            return;
        }

        // No host took the transaction.
        string reason = lastError is null ? "4.4.1 no host could be reached"
            : lastError.Reply is { } reply ? $"{reply} (from {lastHost})"
            : $"{lastError.Status} {lastError.Message}";
        foreach (int i in group)
        {
            if (lastError is { IsPermanent: true })
            {
                attempt.Failed(i, reason);
            }
            else
            {
                attempt.Deferred(i, reason);
            }
        }
    }

    /// <summary>
    /// Resolves SERVER (or the domain's MX); null when the recipients of the group have already been
    /// failed (5.1.2, the name does not exist) or deferred (4.4.3, DNS failed for now or gave nothing).
    /// </summary>
    private async Task<ResolveResult?> RouteAsync(Attempt attempt, string? server, string domain, List<int> group, CancellationToken cancel)
    {
        ResolveResult route;
        if (server is not null)
        {
            _context.Log.Write(attempt.Tag, $"DNS solving relay server: {server}");
            route = await _resolver.ResolveHostAsync(server, _context.Settings.RelayServerTcpPort, cancel).ConfigureAwait(false);
        }
        else
        {
            _context.Log.Write(attempt.Tag, $"DNS solving MX: {domain}");
            route = await _resolver.ResolveMxAsync(domain, _context.Settings.MxPort, cancel).ConfigureAwait(false);
        }

        _context.Log.Write(attempt.Tag, $"DNS: {route.Detail}");
        bool permanent = route.Status == ResolveStatus.PermanentFailure;
        if (!permanent && route.Status != ResolveStatus.TemporaryFailure && route.Targets.Count > 0)
        {
            return route;
        }

        foreach (int i in group)
        {
            if (permanent)
            {
                attempt.Failed(i, WithStatus(route.Detail, "5.1.2"));
            }
            else
            {
                attempt.Deferred(i, WithStatus(route.Detail, "4.4.3"));
            }
        }

        return null;
    }

    /// <summary>
    /// Tries each address of each target in order until one takes the transaction (its replies are
    /// applied to the group); otherwise the last error and the host that gave it.
    /// </summary>
    private async Task<(bool Sent, SmtpClientException? LastError, string? LastHost)> TryTargetsAsync(Attempt attempt, bool relayServer,
        List<int> group, IReadOnlyList<DeliveryTarget> targets, OutboundMessage outbound, CancellationToken cancel)
    {
        SmtpClientException? lastError = null;
        string? lastHost = null;
        foreach (DeliveryTarget target in targets)
        {
            foreach (IPAddress address in target.Addresses)
            {
                var endpoint = new IPEndPoint(address, target.Port);
                lastHost = target.Host;
                SmtpClientConnection? connection = await attempt.Session.ConnectionForAsync(endpoint, target.Host, relayServer, cancel).ConfigureAwait(false);
                if (connection is null)
                {
                    lastError = attempt.Session.LastConnectError;
                    continue;
                }

                TransactionResult result;
                try
                {
                    result = await connection.SendAsync(outbound, cancel).ConfigureAwait(false);
                }
                catch (SmtpClientException e)
                {
                    _context.Log.Write(attempt.Tag, $"Connection to {target.Host} [{address}] failed: {e.Message}");
                    NoteTrouble(endpoint, e, connecting: false);
                    lastError = e;
                    await attempt.Session.DropAsync().ConfigureAwait(false);
                    continue;
                }

                if (result.Folds > 0)
                {
                    _context.Log.Write(attempt.Tag, $"Message {Spool.SpoolIds.Format(attempt.Message.Id)}: lines over 998 octets folded for {target.Host} ({result.Folds} CRLF SPACE breaks inserted)");
                }

                Apply(attempt, group, result, target.Host, connection.Capabilities.Dsn);
                if (!connection.IsUsable)
                {
                    await attempt.Session.DropAsync().ConfigureAwait(false);
                }

                return (true, null, lastHost);
            }
        }

        return (false, lastError, lastHost);
    }

    /// <summary>
    /// The targets that are not this server itself. When nothing else is left, every recipient of
    /// the group fails with 5.4.6 "mail for DOMAIN loops back to myself" (Postfix's words), without
    /// a connection: the usual failure notification follows.
    /// </summary>
    private IReadOnlyList<DeliveryTarget> WithoutSelf(Attempt attempt, string? server, string domain, List<int> group, IReadOnlyList<DeliveryTarget> targets)
    {
        IReadOnlyList<IPEndPoint> listeners = _context.ListeningEndPoints;
        if (listeners.Count == 0)
        {
            return targets;
        }

        IReadOnlyList<DeliveryTarget> kept = SelfRoute.WithoutSelf(targets, server is not null, endpoint => SelfRoute.IsSelf(endpoint, listeners), out string? self);
        if (self is null)
        {
            return targets;
        }

        string which = server is not null ? $"SERVER {self}" : $"MX host {self}";
        if (kept.Count > 0)
        {
            _context.Log.Write(attempt.Tag, $"{which} is this server: trying only the other hosts");
            return kept;
        }

        _context.Loops.LoopBack.Increment();
        _context.Log.Write(attempt.Tag, $"Mail for {(server is not null ? server : domain)} loops back to myself: {which} is this server");
        foreach (int i in group)
        {
            string recipientDomain = DomainOf(attempt.Envelope.Recipients[i].Address);
            attempt.Failed(i, $"5.4.6 mail for {(recipientDomain.Length > 0 ? recipientDomain : domain)} loops back to myself ({which} is this server)");
        }

        return kept;
    }

    /// <summary>The replies of one transaction; <paramref name="dsn"/>: the host offered DSN, so NOTIFY went with each recipient.</summary>
    private void Apply(Attempt attempt, List<int> group, TransactionResult result, string host, bool dsn)
    {
        for (int j = 0; j < group.Count; j++)
        {
            int i = group[j];
            SmtpReply reply = result.FinalReplyFor(j);
            string text = $"{reply} (from {host})";
            if (reply.IsPositive)
            {
                attempt.Delivered(i, text, dsn ? null : ReportAction.Relayed, host);
                _context.Metrics.ObserveDelivery(_context.Time.GetUtcNow() - attempt.Envelope.Received);
            }
            else if (reply.IsPermanent)
            {
                attempt.Failed(i, text);
            }
            else
            {
                attempt.Deferred(i, text);
            }

            _context.Log.Write(attempt.Tag, $"{attempt.Envelope.Recipients[i].Address}: {reply}");
        }
    }

    private OutboundMessage BuildOutbound(Attempt attempt, List<int> group, ReadOnlyMemory<byte> prefix)
    {
        Envelope envelope = attempt.Envelope;
        var recipients = new OutboundRecipient[group.Count];
        for (int j = 0; j < group.Count; j++)
        {
            EnvelopeRecipient r = envelope.Recipients[group[j]];
            recipients[j] = new OutboundRecipient(r.Address, r.Notify, r.OriginalRecipient);
        }

        uint id = attempt.Message.Id;
        long size = attempt.Message.Size + prefix.Length;
        return new OutboundMessage
        {
            Sender = envelope.Sender,
            Recipients = recipients,
            Size = size,
            EightBit = (envelope.Flags & EnvelopeFlags.EightBitMime) != 0,
            SmtpUtf8 = (envelope.Flags & EnvelopeFlags.SmtpUtf8) != 0,
            EnvelopeId = envelope.EnvelopeId,
            Return = envelope.Return,
            OpenBody = () => _context.Spool!.OpenBody(id),
            Prefix = prefix,
        };
    }

    /// <summary>The longest a TLS handshake may take (DT when that is shorter).</summary>
    private static readonly TimeSpan MaxTlsHandshake = TimeSpan.FromSeconds(30);

    /// <summary>SERVER-TLS-CA as last read: read again when the path or the file's time changes.</summary>
    private volatile TrustAnchorFile? _trustAnchors;

    /// <summary>
    /// The certificates of the PEM file SERVER-TLS-CA. A file that cannot be read or holds no
    /// certificate is a <see cref="SmtpClientException"/> with status 4.7.5: the mail waits until
    /// the file is fixed rather than going out unverified.
    /// </summary>
    private X509Certificate2Collection TrustAnchors(string path)
    {
        try
        {
            DateTime written = File.GetLastWriteTimeUtc(path);
            if (_trustAnchors is { } known && known.Path == path && known.Written == written)
            {
                return known.Anchors;
            }

            var anchors = new X509Certificate2Collection();
            anchors.ImportFromPemFile(path);
            if (anchors.Count == 0)
            {
                throw new SmtpClientException($"certificate verification failed: SERVER-TLS-CA {path} holds no certificate") { Status = "4.7.5" };
            }

            _trustAnchors = new TrustAnchorFile(path, written, anchors);
            return anchors;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new SmtpClientException($"certificate verification failed: cannot read SERVER-TLS-CA {path}: {e.Message}", null, e) { Status = "4.7.5" };
        }
    }

    // A class, not a record: nothing compares or prints it (see docs/performance.md, The binary's bytes).
    private sealed class TrustAnchorFile(string path, DateTime written, X509Certificate2Collection anchors)
    {
        public string Path { get; } = path;

        public DateTime Written { get; } = written;

        public X509Certificate2Collection Anchors { get; } = anchors;
    }

    /// <summary>Puts <paramref name="status"/> in front of a detail that does not start with an enhanced status code.</summary>
    private static string WithStatus(string detail, string status) =>
        SmtpReply.LeadingEnhancedStatus(detail) is null ? $"{status} {detail}" : detail;

    /// <summary>
    /// An OUT session: the channel and its one open SMTP connection, kept from one message to the next
    /// while they go to the same host.
    /// </summary>
    private sealed class OutSession(DeliveryEngine engine, SmtpChannel channel)
    {
        private SmtpClientConnection? _connection;
        private IPEndPoint? _endpoint;

        public SmtpChannel Channel { get; } = channel;

        public SmtpClientException? LastConnectError { get; private set; }

        /// <summary>The open connection to <paramref name="endpoint"/>, or a new one; null when the connect failed.</summary>
        public async Task<SmtpClientConnection?> ConnectionForAsync(IPEndPoint endpoint, string host, bool relayServer, CancellationToken cancel)
        {
            if (_connection is not null && endpoint.Equals(_endpoint) && _connection.IsUsable)
            {
                return _connection;
            }

            await CloseAsync().ConfigureAwait(false);
            SmtpContext context = engine._context;
            LogTag tag = LogTag.Channel(Channel.Number);
            if (engine.TroubleOf(endpoint) is { } trouble)
            {
                LastConnectError = Skipped(trouble);
                context.Log.Write(tag, $"Connection to {host} [{endpoint.Address}]:{endpoint.Port} not tried: {LastConnectError.Message}");
                return null;
            }

            context.Log.Write(tag, $"Connecting to {host} [{endpoint.Address}]:{endpoint.Port}");
            SmtpSettings settings = context.Settings;
            OutboundSecurity security = relayServer ? settings.RelayServerSecurity : OutboundSecurity.None;
            if (!TryTrustAnchors(endpoint, host, security, out X509Certificate2Collection? anchors))
            {
                return null;
            }

            Channel.RemoteEndPoint = endpoint;
            _connection = await ConnectAsync(endpoint, host, relayServer, security, anchors, cancel).ConfigureAwait(false);
            if (_connection is null)
            {
                return null;
            }

            context.Count(Channel, SmtpCounter.CallSucc, Direction.Out);
            engine.NoteWorking(endpoint);
            if (_connection.TlsInfo is { } tls)
            {
                context.Log.Write(tag, $"TLS with {host}: {tls}");
            }
            else if (_connection.StartTlsRefused is { } refused)
            {
                context.Log.Write(tag, $"STARTTLS refused by {host}: {refused}; going on without TLS");
            }

            _endpoint = endpoint;
            Channel.LocalEndPoint = _connection.LocalEndPoint;
            return _connection;
        }

        /// <summary>
        /// The certificate authorities that verify the relay server's certificate, when TLS is to be
        /// verified against a CA file; false (logged, in <see cref="LastConnectError"/>) when that file cannot be read.
        /// </summary>
        private bool TryTrustAnchors(IPEndPoint endpoint, string host, OutboundSecurity security, out X509Certificate2Collection? anchors)
        {
            anchors = null;
            SmtpSettings settings = engine._context.Settings;
            if (security == OutboundSecurity.None || settings.RelayServerTlsVerify != TlsVerification.Verify || settings.RelayServerTlsCaPath is not { } caPath)
            {
                return true;
            }

            try
            {
                anchors = engine.TrustAnchors(caPath);
                return true;
            }
            catch (SmtpClientException e)
            {
                engine._context.Log.Write(LogTag.Channel(Channel.Number), $"Connection to {host} [{endpoint.Address}]:{endpoint.Port} not tried: {e.Message}");
                LastConnectError = e;
                return false;
            }
        }

        /// <summary>
        /// Connects (and greets, and starts TLS as configured); with opportunistic TLS on the MX path a
        /// broken TLS is retried once in plain text on a new connection. Null (logged, counted, in
        /// <see cref="LastConnectError"/>) when the host cannot be reached.
        /// </summary>
        private async Task<SmtpClientConnection?> ConnectAsync(IPEndPoint endpoint, string host, bool relayServer, OutboundSecurity security,
            X509Certificate2Collection? anchors, CancellationToken cancel)
        {
            SmtpContext context = engine._context;
            LogTag tag = LogTag.Channel(Channel.Number);
            bool opportunistic = !relayServer && context.Settings.MxTls;
            while (true)
            {
                SmtpClientOptions options = Options(host, relayServer, security, opportunistic, anchors);
                try
                {
                    return await SmtpClientConnection.ConnectAsync(endpoint, options, OnState, cancel).ConfigureAwait(false);
                }
                catch (SmtpClientException e) when (e.TlsFailed && opportunistic)
                {
                    // Postfix's "may": a host whose advertised TLS is broken gets the mail in plain text.
                    context.Count(Channel, SmtpCounter.CallFail, Direction.Out);
                    context.Log.Write(tag, $"TLS with {host} [{endpoint.Address}]:{endpoint.Port} failed: {e.Message}; trying again without TLS on a new connection");
                    opportunistic = false;
                }
                catch (SmtpClientException e)
                {
                    context.Count(Channel, SmtpCounter.CallFail, Direction.Out);
                    context.Log.Write(tag, $"Connection to {host} [{endpoint.Address}]:{endpoint.Port} failed: {e.Message}");
                    LastConnectError = e;
                    engine.NoteTrouble(endpoint, e, connecting: true);
                    Channel.TcpState = TcpState.Ready;
                    Channel.RemoteEndPoint = null;
                    return null;
                }
            }
        }

        /// <summary>The client options for one connection from the settings in force.</summary>
        private SmtpClientOptions Options(string host, bool relayServer, OutboundSecurity security, bool opportunistic, X509Certificate2Collection? anchors)
        {
            SmtpContext context = engine._context;
            SmtpSettings settings = context.Settings;
            LogTag tag = LogTag.Channel(Channel.Number);
            return new SmtpClientOptions
            {
                HeloHost = settings.HeloHost,
                Security = security,
                OpportunisticTls = opportunistic,
                Verification = settings.RelayServerTlsVerify,
                TlsPins = settings.RelayServerTlsPins,
                TlsTrustAnchors = anchors,
                TlsHost = host,
                TlsHandshakeTimeout = settings.InactivityTimeout < MaxTlsHandshake ? settings.InactivityTimeout : MaxTlsHandshake,
                Credentials = relayServer && settings.RelayServerAuth ? new NetworkCredential(settings.RelayServerUser, settings.RelayServerPassword) : null,
                AllowPlaintextAuth = settings.RelayServerAuthPlaintext,
                SourceAddress = settings.SourceAddress,
                ConnectTimeout = engine.ConnectTimeout < settings.OutTimeout ? engine.ConnectTimeout : settings.OutTimeout,
                CommandTimeout = engine.CommandTimeout ?? settings.OutTimeout,
                DataTimeout = engine.DataTimeout ?? 2 * settings.OutTimeout,
                Trace = context.Log.Verbose ? line => context.Log.Write(tag, line) : null,
            };
        }

        private void OnState(SmtpState smtp, TcpState tcp)
        {
            Channel.SmtpState = smtp;
            Channel.TcpState = tcp;
        }

        /// <summary>Forgets a connection that failed (no QUIT).</summary>
        public Task DropAsync() => EndAsync(quit: false);

        /// <summary>QUIT and close the open connection, if any.</summary>
        public Task CloseAsync() => EndAsync(quit: true);

        private async Task EndAsync(bool quit)
        {
            if (_connection is { } connection)
            {
                _connection = null;
                _endpoint = null;
                if (quit)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await connection.QuitAsync(timeout.Token).ConfigureAwait(false);
                }

                await connection.DisposeAsync().ConfigureAwait(false);
            }

            Channel.TcpState = TcpState.Ready;
            Channel.LocalEndPoint = null;
            Channel.RemoteEndPoint = null;
        }
    }
}
