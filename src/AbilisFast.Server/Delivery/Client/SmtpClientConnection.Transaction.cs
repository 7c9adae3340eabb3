using System.Buffers;
using System.Globalization;
using System.Text;
using AbilisFast.Protocol.Data;
using AbilisFast.Protocol.Esmtp;
using AbilisFast.Protocol.States;

namespace AbilisFast.Server.Delivery;

/// <summary>One mail transaction on an SMTP client connection: MAIL, RCPT (pipelined or one by one), DATA and the text.</summary>
internal sealed partial class SmtpClientConnection
{
    /// <summary>
    /// One transaction. Refusals come back in the result (per recipient); a lost connection,
    /// timeout or malformed reply throws <see cref="SmtpClientException"/> and the caller must
    /// treat every recipient of the transaction as not delivered.
    /// </summary>
    public async Task<TransactionResult> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_broken)
        {
            throw new SmtpClientException("the connection is no longer usable");
        }

        _folds = 0;

        OutboundCapabilities caps = Capabilities;
        if (message.SmtpUtf8 && !caps.SmtpUtf8)
        {
            return Refused(message, new SmtpReply(553, "5.6.7 the message needs SMTPUTF8 and the next hop does not offer it"));
        }

        if (caps.MaxSize > 0 && message.Size > caps.MaxSize)
        {
            return Refused(message, new SmtpReply(552, $"5.3.4 message size {message.Size} exceeds the limit {caps.MaxSize} of the next hop"));
        }

        string mail = MailCommand(message, caps);
        var rcpts = new string[message.Recipients.Count];
        for (int i = 0; i < rcpts.Length; i++)
        {
            rcpts[i] = RcptCommand(message.Recipients[i], caps);
        }

        var replies = new SmtpReply?[rcpts.Length];
        (SmtpReply mailReply, SmtpReply? dataReply) = caps.Pipelining
            ? await PipelinedAsync(message, mail, rcpts, replies, cancellationToken).ConfigureAwait(false)
            : await OneByOneAsync(message, mail, rcpts, replies, cancellationToken).ConfigureAwait(false);
        if ((dataReply is null || !dataReply.IsPositive) && !_broken)
        {
            // The transaction did not complete: make sure the server forgets it before the next one.
            await WriteCommandsAsync(cancellationToken, "RSET").ConfigureAwait(false);
            SmtpReply reset = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            _broken |= !reset.IsPositive;
        }

        return new TransactionResult { MailReply = mailReply, RecipientReplies = replies, DataReply = dataReply, Folds = _folds };
    }

    /// <summary>RFC 2920: MAIL, every RCPT and DATA in one write; the replies come back in order.</summary>
    private async Task<(SmtpReply Mail, SmtpReply? Data)> PipelinedAsync(OutboundMessage message, string mail, string[] rcpts,
        SmtpReply?[] replies, CancellationToken cancellationToken)
    {
        SetState(SmtpState.Mail, TcpState.Connected);
        await WriteCommandsAsync(cancellationToken, [mail, .. rcpts, "DATA"]).ConfigureAwait(false);
        SmtpReply mailReply = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
        SetState(SmtpState.Rcpt, TcpState.Connected);
        int accepted = 0;
        for (int i = 0; i < rcpts.Length; i++)
        {
            replies[i] = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            accepted += replies[i]!.IsPositive ? 1 : 0;
        }

        SetState(SmtpState.Data, TcpState.Connected);
        SmtpReply go = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
        bool send = mailReply.IsPositive && accepted > 0;
        if (go.Code != 354)
        {
            return (mailReply, send ? go : null);
        }

        if (send)
        {
            return (mailReply, await SendTextAsync(message, cancellationToken).ConfigureAwait(false));
        }

        // A server that says 354 with no recipient: end the (empty) text at once.
        await WriteCommandsAsync(cancellationToken, ".").ConfigureAwait(false);
        await ReadReplyAsync(_options.DataTimeout, null, cancellationToken).ConfigureAwait(false);
        return (mailReply, null);
    }

    /// <summary>Without PIPELINING: MAIL, then each RCPT, then DATA, each waiting for its reply.</summary>
    private async Task<(SmtpReply Mail, SmtpReply? Data)> OneByOneAsync(OutboundMessage message, string mail, string[] rcpts,
        SmtpReply?[] replies, CancellationToken cancellationToken)
    {
        SetState(SmtpState.Mail, TcpState.Connected);
        await WriteCommandsAsync(cancellationToken, mail).ConfigureAwait(false);
        SmtpReply mailReply = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
        if (!mailReply.IsPositive)
        {
            return (mailReply, null);
        }

        SetState(SmtpState.Rcpt, TcpState.Connected);
        int accepted = 0;
        for (int i = 0; i < rcpts.Length && _closingReply is null; i++)
        {
            await WriteCommandsAsync(cancellationToken, rcpts[i]).ConfigureAwait(false);
            replies[i] = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            accepted += replies[i]!.IsPositive ? 1 : 0;
        }

        for (int i = 0; i < rcpts.Length; i++)
        {
            replies[i] ??= _closingReply;
        }

        if (accepted == 0)
        {
            return (mailReply, null);
        }

        SetState(SmtpState.Data, TcpState.Connected);
        await WriteCommandsAsync(cancellationToken, "DATA").ConfigureAwait(false);
        SmtpReply go = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
        return (mailReply, go.Code == 354 ? await SendTextAsync(message, cancellationToken).ConfigureAwait(false) : go);
    }

    private static TransactionResult Refused(OutboundMessage message, SmtpReply reply) => new()
    {
        MailReply = reply,
        RecipientReplies = new SmtpReply?[message.Recipients.Count],
    };

    private static string MailCommand(OutboundMessage message, OutboundCapabilities caps)
    {
        var command = new StringBuilder("MAIL FROM:<").Append(message.Sender).Append('>');
        if (caps.Size)
        {
            command.Append(" SIZE=").Append(message.Size.ToString(CultureInfo.InvariantCulture));
        }

        if (message.EightBit && caps.EightBitMime)
        {
            command.Append(" BODY=8BITMIME");
        }

        if (message.SmtpUtf8)
        {
            command.Append(" SMTPUTF8");
        }

        if (caps.Dsn)
        {
            if (message.Return != DsnReturn.Unspecified)
            {
                command.Append(message.Return == DsnReturn.Full ? " RET=FULL" : " RET=HDRS");
            }

            if (message.EnvelopeId is { } envelopeId)
            {
                command.Append(" ENVID=").Append(envelopeId);
            }
        }

        return command.ToString();
    }

    private static string RcptCommand(OutboundRecipient recipient, OutboundCapabilities caps)
    {
        var command = new StringBuilder("RCPT TO:<").Append(recipient.Address).Append('>');
        if (caps.Dsn)
        {
            if (recipient.Notify != DsnNotify.None)
            {
                command.Append(" NOTIFY=");
                if ((recipient.Notify & DsnNotify.Never) != 0)
                {
                    command.Append("NEVER");
                }
                else
                {
                    string separator = string.Empty;
                    foreach ((DsnNotify flag, string name) in (ReadOnlySpan<(DsnNotify, string)>)[(DsnNotify.Success, "SUCCESS"), (DsnNotify.Failure, "FAILURE"), (DsnNotify.Delay, "DELAY")])
                    {
                        if ((recipient.Notify & flag) != 0)
                        {
                            command.Append(separator).Append(name);
                            separator = ",";
                        }
                    }
                }
            }

            if (recipient.OriginalRecipient is { } original)
            {
                command.Append(" ORCPT=").Append(original);
            }
        }

        return command.ToString();
    }

    /// <summary>
    /// Streams the message text and returns the final reply. Everything done to the stored text on
    /// its way out happens in <see cref="WireText"/>, in this order: line ends normalised to CRLF and
    /// lines over 998 octets folded (<see cref="OutgoingText"/>), dot-stuffed, then ".".
    /// </summary>
    private async Task<SmtpReply> SendTextAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        SetState(SmtpState.Text, TcpState.Connected);
        byte[] input = ArrayPool<byte>.Shared.Rent(ReadChunk);
        var wire = new WireText(ReadChunk);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            if (message.Prefix.Length > 0)
            {
                // Header fields added on the way out (DKIM-Signature): complete CRLF lines before the text.
                timeout.CancelAfter(_options.DataTimeout);
                await _stream.WriteAsync(wire.EncodePrefix(message.Prefix.Span), timeout.Token).ConfigureAwait(false);
            }

            Stream body = message.OpenBody();
            await using (body.ConfigureAwait(false))
            {
                int read;
                while ((read = await body.ReadAsync(input.AsMemory(0, ReadChunk), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    ReadOnlyMemory<byte> chunk = wire.Encode(input.AsSpan(0, read));
                    timeout.CancelAfter(_options.DataTimeout);
                    await _stream.WriteAsync(chunk, timeout.Token).ConfigureAwait(false);
                }
            }

            ReadOnlyMemory<byte> end = wire.Finish();
            timeout.CancelAfter(_options.DataTimeout);
            await _stream.WriteAsync(end, timeout.Token).ConfigureAwait(false);
            _options.Trace?.Invoke($">>> ({message.Size} octets of message text) .");
            _folds = wire.Folds;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimedOut($"sending the message text timed out after {Seconds(_options.DataTimeout)} s");
        }
        catch (IOException e)
        {
            throw Lost("sending the message text", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
            wire.Dispose();
        }

        SetState(SmtpState.Eot, TcpState.Connected);
        return await ReadReplyAsync(_options.DataTimeout, null, cancellationToken).ConfigureAwait(false);
    }
}
