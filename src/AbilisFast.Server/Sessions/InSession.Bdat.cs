using System.Buffers;
using System.Globalization;
using AbilisFast.Protocol.Esmtp;
using AbilisFast.Protocol.Replies;
using AbilisFast.Protocol.States;

namespace AbilisFast.Server.Sessions;

/// <summary>BDAT (RFC 3030 CHUNKING): each chunk is drained whole, appended to the message or refused, the last one commits.</summary>
internal sealed partial class InSession
{
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

    private Step Bdat(ReadOnlySpan<byte> argument)
    {
        if (!BdatArgument.TryParse(argument, out long size, out bool last))
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
}
