using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using AbilisFast.Protocol.Lines;

namespace AbilisFast.Server.Delivery;

/// <summary>Writing commands and reading replies on an SMTP client connection, strictly through the line reader.</summary>
internal sealed partial class SmtpClientConnection
{
    private async Task WriteCommandsAsync(CancellationToken cancellationToken, params string[] commands)
    {
        _commands.ResetWrittenCount();
        foreach (string command in commands)
        {
            if (!_suppressTrace)
            {
                _options.Trace?.Invoke(">>> " + command);
            }

            int max = Encoding.UTF8.GetMaxByteCount(command.Length) + 2;
            Span<byte> span = _commands.GetSpan(max);
            int length = Encoding.UTF8.GetBytes(command, span);
            span[length++] = (byte)'\r';
            span[length++] = (byte)'\n';
            _commands.Advance(length);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.CommandTimeout);
        try
        {
            await _stream.WriteAsync(_commands.WrittenMemory, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimedOut($"sending {Verb(commands[0])} timed out after {Seconds(_options.CommandTimeout)} s");
        }
        catch (IOException e)
        {
            throw Lost($"sending {Verb(commands[0])}", e);
        }
    }

    /// <summary>
    /// Reads one complete reply. Every line must be "ddd-text" (more follow) or "ddd text"/"ddd" (last),
    /// with one code throughout. After a 421 the server is closing: that reply stands for every later one.
    /// </summary>
    private async Task<SmtpReply> ReadReplyAsync(TimeSpan timeout, List<string>? lines, CancellationToken cancellationToken)
    {
        if (_closingReply is { } closing)
        {
            return closing;
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        var reply = new ReplyBuilder(lines);
        while (true)
        {
            ReadResult result = await ReadSomeAsync(timeout, timer.Token, cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            string? error = TakeLines(ref buffer, ref reply, out bool done);
            if (error is not null)
            {
                _reader.AdvanceTo(buffer.Start, buffer.End);
                _broken = true;
                throw new SmtpClientException("malformed reply, " + error);
            }

            if (done)
            {
                // Only what was used is examined: pipelined replies may already wait in the buffer.
                _reader.AdvanceTo(buffer.Start);
                var complete = new SmtpReply(reply.Code, reply.Text.ToString());
                if (reply.Code == 421)
                {
                    _closingReply = complete;
                    _broken = true;
                }

                return complete;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                _broken = true;
                throw new SmtpClientException(reply.Count == 0 ? "connection closed by the server" : "connection closed in the middle of a reply");
            }
        }
    }

    /// <summary>The reply read so far: its code, its lines and their text joined by spaces.</summary>
    private struct ReplyBuilder(List<string>? lines)
    {
        public int Code = -1;
        public int Count;
        public readonly StringBuilder Text = new();
        public readonly List<string>? Lines = lines;
    }

    /// <summary>Reads more of the reply; a timeout or a lost connection makes the connection unusable.</summary>
    private async ValueTask<ReadResult> ReadSomeAsync(TimeSpan timeout, CancellationToken timer, CancellationToken cancellationToken)
    {
        try
        {
            return await _reader.ReadAsync(timer).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimedOut($"no reply within {Seconds(timeout)} s");
        }
        catch (IOException e)
        {
            throw Lost("waiting for a reply", e);
        }
    }

    /// <summary>A timeout, said by <paramref name="text"/>: the connection is unusable from here on.</summary>
    private SmtpClientException TimedOut(string text)
    {
        _broken = true;
        return new SmtpClientException(text) { TimedOut = true };
    }

    /// <summary>The connection was lost while <paramref name="doing"/>: it is unusable from here on.</summary>
    private SmtpClientException Lost(string doing, IOException e)
    {
        _broken = true;
        return new SmtpClientException($"connection lost while {doing}: {Transport.NetworkErrorText.Describe(e)}", null, e);
    }

    /// <summary>
    /// Takes the whole lines in <paramref name="buffer"/> into <paramref name="reply"/> until the last
    /// line of the reply; the error text when a line is malformed, the reply too long or a line too long.
    /// </summary>
    private string? TakeLines(ref ReadOnlySequence<byte> buffer, ref ReplyBuilder reply, out bool done)
    {
        done = false;
        while (!done)
        {
            LineStatus status = LineReader.TryRead(ref buffer, _scratch, MaxReplyLine, out ReadOnlySpan<byte> line, out _);
            if (status == LineStatus.Incomplete)
            {
                return null;
            }

            if (status == LineStatus.TooLong)
            {
                return $"reply line longer than {MaxReplyLine} octets";
            }

            string lineText = Encoding.UTF8.GetString(line);
            _options.Trace?.Invoke("<<< " + lineText);
            if (ParseLine(line, ref reply.Code, out bool last) is { } error)
            {
                return $"{error}: \"{Printable(lineText)}\"";
            }

            if (++reply.Count > MaxReplyLines)
            {
                return $"reply longer than {MaxReplyLines} lines";
            }

            string part = lineText.Length > 4 ? lineText[4..] : string.Empty;
            reply.Lines?.Add(part);
            reply.Text.Append(reply.Text.Length > 0 && part.Length > 0 ? " " : string.Empty).Append(part);
            done = last;
        }

        return null;
    }

    /// <summary>Checks one reply line; null when it is well formed.</summary>
    private static string? ParseLine(ReadOnlySpan<byte> line, ref int code, out bool last)
    {
        last = false;
        if (line.Length < 3 || line[0] is < (byte)'2' or > (byte)'5' || line[1] is < (byte)'0' or > (byte)'5' || !char.IsAsciiDigit((char)line[2]))
        {
            return "no reply code";
        }

        int lineCode = ((line[0] - '0') * 100) + ((line[1] - '0') * 10) + (line[2] - '0');
        if (code >= 0 && lineCode != code)
        {
            return $"code {lineCode} inside a {code} reply";
        }

        code = lineCode;
        if (line.Length == 3 || line[3] == (byte)' ')
        {
            last = true;
            return null;
        }

        return line[3] == (byte)'-' ? null : "neither ' ' nor '-' after the code";
    }
}
