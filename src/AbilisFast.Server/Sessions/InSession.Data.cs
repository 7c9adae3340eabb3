using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using AbilisFast.Protocol.Data;
using AbilisFast.Protocol.Replies;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Diagnostics;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Spool;
using AbilisFast.Server.Configuration;

namespace AbilisFast.Server.Sessions;

/// <summary>
/// DATA and BDAT: the body streams through the decoder into the spool writer as it arrives, with a
/// running byte budget (MSG-MAXSIZE). Over the budget the rest is drained and answered 552 5.3.4
/// with nothing queued; a write failure is answered 451 4.3.0 and the partial message dropped.
/// </summary>
internal sealed partial class InSession
{
    private const int DecodeBufferSize = 4096;

    private DotDecoder _dotDecoder;
    private RawNormalizer _rawNormalizer;
    private ReceivedCounter _hops;
    private SpoolWriter? _writer;
    private uint _messageId;
    private long _bodyBytes;
    private bool _oversize;
    private bool _writeFailed;
    private bool _relayRefusedCounted;
    private bool _smtpUtf8;
    private long _declaredSize;
    private bool _messageStarted;
    private long _bdatRemaining;
    private bool _bdatLast;
    private BdatRefusal _bdatRefusal;

    private enum BdatRefusal : byte
    {
        None,
        NeedMail,
        NeedRcpt,
        StartFailed,
        Oversize,
    }

    private Step Data(ReadOnlySpan<byte> argument)
    {
        if (!argument.IsEmpty)
        {
            return Error(SmtpReplies.NoArguments);
        }

        if (!StartMessage())
        {
            CountRefusedMail(_envelope.Kinds);
            ResetTransaction();
            return Error(SmtpReplies.WriteError);
        }

        _dotDecoder.Reset();
        StartTransfer();
        _mode = Mode.Data;
        SetState(SmtpState.Data);
        Reply(SmtpReplies.StartData);
        return Step.Continue;
    }

    private Step Bdat(ReadOnlySpan<byte> argument)
    {
        if (!TryParseBdat(argument, out long size, out bool last))
        {
            // The chunk length is unknown, so the stream cannot be resynchronised: close.
            Reply(SmtpReplies.BdatSyntax);
            return Step.Close;
        }

        _bdatRemaining = size;
        _bdatLast = last;
        StartTransfer();
        _bdatRefusal = State switch
        {
            SmtpState.Rcpt or SmtpState.Data => BdatRefusal.None,
            SmtpState.WaitRcpt => BdatRefusal.NeedRcpt,
            _ => BdatRefusal.NeedMail,
        };

        if (_bdatRefusal == BdatRefusal.None && !_messageStarted)
        {
            if (StartMessage())
            {
                _rawNormalizer.Reset();
                SetState(SmtpState.Data);
            }
            else
            {
                _bdatRefusal = BdatRefusal.StartFailed;
            }
        }

        _mode = Mode.Bdat;
        return size == 0 ? FinishChunk() : Step.Continue;
    }

    private static bool TryParseBdat(ReadOnlySpan<byte> argument, out long size, out bool last)
    {
        last = false;
        int space = argument.IndexOf((byte)' ');
        ReadOnlySpan<byte> digits = space < 0 ? argument : argument[..space];
        if (!Protocol.Addressing.EsmtpParameters.TryParseSize(digits, out size))
        {
            return false;
        }

        if (space < 0)
        {
            return true;
        }

        last = Ascii.EqualsIgnoreCase(argument[(space + 1)..].TrimEnd((byte)' '), "LAST"u8);
        return last;
    }

    /// <summary>Allocates the id, opens the spool writer and writes the Received: header.</summary>
    private bool StartMessage()
    {
        _bodyBytes = 0;
        _hops.Reset();
        _oversize = false;
        _writeFailed = false;
        if (_context.Settings.Sink || _context.Spool is null)
        {
            _messageId = _context.NextSinkId();
        }
        else
        {
            try
            {
                _messageId = _context.Spool.NextId();
                _writer = _context.Spool.BeginMessage(_messageId);
                WriteReceivedHeader(_writer);
            }
            catch (IOException e)
            {
                LogNotQueued(e);
                AbortMessage();
                return false;
            }
        }

        _messageStarted = true;
        LogReceiving();
        return true;
    }

    /// <summary>
    /// One session-log line saying why a message got 451 (a full disk, a failed write or sync), so the
    /// operator sees the cause and not only the refusal. Only on the failure path.
    /// </summary>
    private void LogNotQueued(IOException e) =>
        _context.Log.Write(LogTag.In, $"Message {SpoolIds.Format(_messageId)} not queued: {e.Message}");

    private void LogReceiving()
    {
        // Formatted by hand: Utf8.TryWrite boxes its values in unoptimised (Debug, tier-0) code.
        Span<byte> text = stackalloc byte[48];
        int n = 0;
        Put(text, ref n, "Receiving message: "u8);
        PutHex(text, ref n, _messageId);
        _context.Log.Write(LogTag.In, text[..n]);
        LogMessageRows();
    }

    private void WriteReceivedHeader(SpoolWriter writer)
    {
        // HELO (<= 255 octets), host name and the fixed text fit in two command lines' worth.
        Span<byte> header = stackalloc byte[LineReaderMax * 2 + 256];
        // RFC 3848 / RFC 6531: S under TLS, A once authenticated (ESMTPSA, UTF8SMTPSA, ...).
        ReadOnlySpan<byte> protocol = !_esmtp ? "SMTP"u8 : _smtpUtf8 ? "UTF8SMTP"u8 : "ESMTP"u8;
        int n = 0;
        Put(header, ref n, "Received: from "u8);
        Put(header, ref n, _heloLength == 0 ? "unknown"u8 : _helo.AsSpan(0, _heloLength));
        Put(header, ref n, " (["u8);
        // RFC 5321 4.1.3: an IPv6 address literal carries the IPv6: tag ([IPv6:2001:db8::1]).
        PeerAddress.TryFormatLiteral(_remote, header[n..], out int written);
        n += written;
        Put(header, ref n, "])\r\n\tby "u8);
        Put(header, ref n, _context.HeloHostUtf8);
        Put(header, ref n, " (AbilisFast) with "u8);
        Put(header, ref n, protocol);
        if (_esmtp && Transport.IsSecure)
        {
            Put(header, ref n, "S"u8);
        }

        if (_esmtp && _authenticated)
        {
            Put(header, ref n, "A"u8);
        }
        Put(header, ref n, " id "u8);
        PutHex(header, ref n, _messageId);
        Put(header, ref n, ";\r\n\t"u8);
        _context.Time.GetUtcNow().TryFormat(header[n..], out written, "ddd, dd MMM yyyy HH:mm:ss", CultureInfo.InvariantCulture);
        n += written;
        Put(header, ref n, " +0000\r\n"u8);

        writer.Write(header[..n]);
    }

    private static void PutHex(Span<byte> destination, ref int position, uint id)
    {
        id.TryFormat(destination[position..], out int written, "X8", CultureInfo.InvariantCulture);
        position += written;
    }

    private static void Put(Span<byte> destination, ref int position, ReadOnlySpan<byte> text)
    {
        int length = Math.Min(text.Length, destination.Length - position);
        text[..length].CopyTo(destination[position..]);
        position += length;
    }

    private const int LineReaderMax = Protocol.Lines.LineReader.MaxCommandLine;

    /// <summary>Decodes DATA text into the message; true once CRLF.CRLF has been consumed.</summary>
    private bool ProcessData(ref ReadOnlySequence<byte> buffer)
    {
        Span<byte> decoded = stackalloc byte[DecodeBufferSize];
        Touch();
        long total = 0;
        bool done = false;
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            ReadOnlySpan<byte> source = segment.Span;
            while (true)
            {
                OperationStatus status = _dotDecoder.Decode(source, decoded, out int consumed, out int written);
                total += consumed;
                source = source[consumed..];
                Append(decoded[..written]);
                if (status == OperationStatus.Done)
                {
                    done = true;
                    break;
                }

                if (status == OperationStatus.NeedMoreData)
                {
                    break;
                }
            }

            if (done)
            {
                break;
            }
        }

        buffer = buffer.Slice(total);
        CountTransfer(total);
        if (done)
        {
            _mode = Mode.Commands;
            EndTransfer();
        }

        return done;
    }

    /// <summary>Takes BDAT chunk bytes; answers the chunk once it is complete.</summary>
    private Step ProcessBdat(ref ReadOnlySequence<byte> buffer)
    {
        long take = Math.Min(_bdatRemaining, buffer.Length);
        if (_bdatRefusal == BdatRefusal.None)
        {
            Span<byte> decoded = stackalloc byte[DecodeBufferSize];
            foreach (ReadOnlyMemory<byte> segment in buffer.Slice(0, take))
            {
                ReadOnlySpan<byte> source = segment.Span;
                while (!source.IsEmpty)
                {
                    _rawNormalizer.Normalize(source, decoded, out int consumed, out int written);
                    source = source[consumed..];
                    Append(decoded[..written]);
                }
            }
        }

        buffer = buffer.Slice(take);
        CountTransfer(take);
        _bdatRemaining -= take;
        Touch();
        return _bdatRemaining == 0 ? FinishChunk() : Step.Continue;
    }

    private Step FinishChunk()
    {
        _mode = Mode.Commands;
        if (_bdatLast || _bdatRefusal != BdatRefusal.None)
        {
            EndTransfer();
        }

        if (_bdatRefusal == BdatRefusal.None && _oversize)
        {
            _bdatRefusal = BdatRefusal.Oversize;
        }

        switch (_bdatRefusal)
        {
            case BdatRefusal.NeedMail:
                return Error(SmtpReplies.NeedMail);
            case BdatRefusal.NeedRcpt:
                return Error(SmtpReplies.NeedRcpt);
            case BdatRefusal.StartFailed:
                CountRefusedMail(_envelope.Kinds);
                ResetTransaction();
                return Error(SmtpReplies.WriteError);
            case BdatRefusal.Oversize:
                CountRefusedMail(_envelope.Kinds);
                ResetTransaction();
                return Error(SmtpReplies.SizeExceeded);
        }

        if (_bdatLast)
        {
            Span<byte> tail = stackalloc byte[2];
            _rawNormalizer.Flush(tail, out int flushed);
            Append(tail[..flushed]);
            return Step.Commit;
        }

        Span<byte> reply = stackalloc byte[64];
        int n = 0;
        Put(reply, ref n, "250 2.0.0 Ok: "u8);
        _bodyBytes.TryFormat(reply[n..], out int digits, default, CultureInfo.InvariantCulture);
        n += digits;
        Put(reply, ref n, " octets received\r\n"u8);
        Reply(reply[..n]);

        return Step.Continue;
    }

    /// <summary>Counts body bytes against MSG-MAXSIZE and passes them to the spool writer.</summary>
    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        _bodyBytes += bytes.Length;
        if (!_hops.HeaderEnded)
        {
            _hops.Feed(bytes);
        }

        if (_oversize || _writeFailed)
        {
            return;
        }

        if (_bodyBytes > _context.Settings.MsgMaxSizeBytes)
        {
            _oversize = true;
            AbortWriter();
            return;
        }

        if (_writer is null)
        {
            return;
        }

        try
        {
            _writer.Write(bytes);
        }
        catch (IOException e)
        {
            _writeFailed = true;
            LogNotQueued(e);
            AbortWriter();
        }
    }

    /// <summary>
    /// The end of the body: make it durable, then answer (250 only after the fsync). Only the spool
    /// commit is asynchronous; the other outcomes complete without a state machine.
    /// </summary>
    private ValueTask CommitAsync()
    {
        RecipientFlags kinds = _envelope.Kinds;
        long textEnded = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!_oversize && !_writeFailed && _hops.Count >= _context.Settings.HopLimit)
        {
            // With our own Received: field the message would carry more than HOP-LIMIT: a mail loop.
            AbortWriter();
            CountRefusedMail(kinds);
            _context.Loops.CountHopLimit();
            EndTransaction(RefuseTooManyHops());
            return default;
        }

        if (_writer is not null && !_oversize && !_writeFailed)
        {
            SpoolWriter writer = _writer;
            _writer = null;
            return CommitToSpoolAsync(writer, kinds, textEnded);
        }

        Step step;
        if (_oversize)
        {
            CountRefusedMail(kinds);
            step = Error(SmtpReplies.SizeExceeded);
        }
        else if (_writeFailed)
        {
            CountRefusedMail(kinds);
            step = Error(SmtpReplies.WriteError);
        }
        else
        {
            // Sink mode: accepted and discarded.
            CountAcceptedMail(kinds);
            ReplyWithId(SmtpReplies.DiscardedPrefix, _messageId);
            _context.Metrics.ObserveAccept(textEnded);
            step = Step.Continue;
        }

        EndTransaction(step);
        return default;
    }

    private async ValueTask CommitToSpoolAsync(SpoolWriter writer, RecipientFlags kinds, long textEnded)
    {
        Step step;
        long size = _bodyBytes;
        try
        {
            await writer.CommitAsync(_envelope.Written.Span).ConfigureAwait(false);
            _context.Queue.Enqueue(new QueuedMessage(_messageId, size, _context.Time.GetUtcNow().ToUnixTimeMilliseconds()));
            CountAcceptedMail(kinds);
            ReplyWithId(SmtpReplies.QueuedPrefix, _messageId);
            _context.Metrics.ObserveAccept(textEnded);
            step = Step.Continue;
        }
        catch (IOException e)
        {
            LogNotQueued(e);
            CountRefusedMail(kinds);
            step = Error(SmtpReplies.WriteError);
        }
        finally
        {
            // Back to the spool's pool (an uncommitted message is aborted on the way).
            writer.Dispose();
        }

        EndTransaction(step);
    }

    /// <summary>554 5.4.6 for a message over HOP-LIMIT, and the same reason in the session log.</summary>
    private Step RefuseTooManyHops()
    {
        Span<byte> text = stackalloc byte[160];
        int n = 0;
        Put(text, ref n, "554 5.4.6 Error: too many hops ("u8);
        PutInt(text, ref n, _hops.Count);
        Put(text, ref n, " Received: header fields, HOP-LIMIT "u8);
        PutInt(text, ref n, _context.Settings.HopLimit);
        Put(text, ref n, "): mail loop?\r\n"u8);
        Span<byte> line = stackalloc byte[200];
        int m = 0;
        Put(line, ref m, "Message "u8);
        PutHex(line, ref m, _messageId);
        Put(line, ref m, " refused: "u8);
        Put(line, ref m, text[4..(n - 2)]);
        _context.Log.Write(LogTag.In, line[..m]);
        return Error(text[..n]);
    }

    private static void PutInt(Span<byte> destination, ref int position, int value)
    {
        value.TryFormat(destination[position..], out int written, default, CultureInfo.InvariantCulture);
        position += written;
    }

    private void EndTransaction(Step step)
    {
        ResetTransaction();
        if (step == Step.Close)
        {
            _closing = true;
        }
    }

    private void ReplyWithId(ReadOnlySpan<byte> prefix, uint id)
    {
        Span<byte> reply = stackalloc byte[prefix.Length + 10];
        prefix.CopyTo(reply);
        id.TryFormat(reply[prefix.Length..], out int n, "X8", CultureInfo.InvariantCulture);
        "\r\n"u8.CopyTo(reply[(prefix.Length + n)..]);
        Reply(reply[..(prefix.Length + n + 2)]);
    }

    private void CountAcceptedMail(RecipientFlags kinds)
    {
        _context.Count(_channel, SmtpCounter.ExtSucc, Direction.In);
        if ((kinds & RecipientFlags.Local) != 0)
        {
            _context.Count(_channel, SmtpCounter.LocalSucc, Direction.In);
        }

        if ((kinds & RecipientFlags.Relay) != 0)
        {
            _context.Count(_channel, SmtpCounter.RelaySucc, Direction.In);
        }
    }

    private void CountRefusedMail(RecipientFlags kinds)
    {
        _context.Count(_channel, SmtpCounter.ExtFail, Direction.In);
        if ((kinds & RecipientFlags.Local) != 0)
        {
            _context.Count(_channel, SmtpCounter.LocalFail, Direction.In);
        }

        if ((kinds & RecipientFlags.Relay) != 0 && !_relayRefusedCounted)
        {
            _context.Count(_channel, SmtpCounter.RelayFail, Direction.In);
        }
    }

    private void AbortWriter()
    {
        SpoolWriter? writer = _writer;
        _writer = null;
        writer?.Dispose();
    }

    /// <summary>Drops an unfinished message (connection lost, reset, size or write failure).</summary>
    private void AbortMessage()
    {
        AbortWriter();
        _messageStarted = false;
    }

    private void ResetTransaction()
    {
        AbortMessage();
        _envelope.Reset();
        ResetRecipients();
        _relayRefusedCounted = false;
        _smtpUtf8 = false;
        _bodyBytes = 0;
        _oversize = false;
        _writeFailed = false;
        _bdatRemaining = 0;
        _bdatLast = false;
        _bdatRefusal = BdatRefusal.None;
        EndTransfer();
        if (State != SmtpState.Ready)
        {
            SetState(_heloLength > 0 ? SmtpState.WaitMail : SmtpState.WaitHelo);
        }
    }
}
