using System.Buffers;
using System.Globalization;
using AbilisFast.Protocol.Data;
using AbilisFast.Protocol.Replies;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Queue;
using AbilisFast.Server.Spool;

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

    /// <summary>Message text as decoded: with the submission fields added where they belong (<see cref="AppendSubmitted"/>).</summary>
    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_submission)
        {
            AppendSubmitted(bytes);
            return;
        }

        AppendBody(bytes);
    }

    /// <summary>Counts body bytes against MSG-MAXSIZE and passes them to the spool writer.</summary>
    private void AppendBody(ReadOnlySpan<byte> bytes)
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
        EndSubmittedText();
        RecipientFlags kinds = _envelope.Kinds;
        long textEnded = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!_oversize && !_writeFailed && _hops.Count >= _context.Settings.HopLimit)
        {
            // With our own Received: field the message would carry more than HOP-LIMIT: a mail loop.
            AbortWriter();
            CountRefusedMail(kinds);
            _context.Loops.HopLimit.Increment();
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
        MessageAccepted();
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
            SetState(!_helo.IsEmpty ? SmtpState.WaitMail : SmtpState.WaitHelo);
        }
    }
}
