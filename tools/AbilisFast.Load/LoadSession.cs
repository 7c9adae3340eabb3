using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace AbilisFast.Load;

/// <summary>
/// One client session: takes messages from the run until there are none left, over one connection
/// at a time (reconnecting after a drop, a 421 or --per-connection messages). Owns one send buffer
/// and one receive buffer for its whole life; a message costs no allocation (the async helpers use
/// pooled state machines and the socket's own reusable awaitables).
/// </summary>
internal sealed class LoadSession
{
    /// <summary>The largest send buffer: bigger messages are sent in pieces of this size.</summary>
    public const int MaxBuffer = 1024 * 1024;

    private const int ReceiveBufferSize = 16 * 1024;

    private readonly LoadRun _run;
    private readonly LoadScript _script;
    private readonly byte[] _send;
    private readonly byte[] _recv = new byte[ReceiveBufferSize];
    private readonly byte[] _date = new byte[64];
    private readonly LatencyHistogram _latency = new();
    private readonly LatencyHistogram _accept = new();
    private Socket? _socket;
    private int _rs;
    private int _re;
    private int _sendLen;
    private int _dateLen;
    private long _dateSecond = -1;
    private bool _pipelining;
    private bool _sawPipelining;
    private volatile bool _timedOut;
    private long _waitSince;

    // Written by this session only, read by the progress line and the report.
    private long _messages;
    private long _accepted;
    private long _replies2;
    private long _replies4;
    private long _replies5;
    private long _dropped;
    private long _timeouts;
    private long _malformed;

    public LoadSession(LoadRun run, LoadScript script)
    {
        _run = run;
        _script = script;
        int size = script.Size + script.MaxHeader + script.Group.Length + 256;
        _send = new byte[Math.Clamp(size, 4096, MaxBuffer)];
    }

    /// <summary>How a message ended for the connection.</summary>
    private enum Ending
    {
        /// <summary>The connection can carry the next message.</summary>
        Open,

        /// <summary>The server said 421: it closes the connection, so do we.</summary>
        Closed,
    }

    public long Messages => Volatile.Read(ref _messages);
    public long Accepted => Volatile.Read(ref _accepted);
    public long Replies2xx => Volatile.Read(ref _replies2);
    public long Replies4xx => Volatile.Read(ref _replies4);
    public long Replies5xx => Volatile.Read(ref _replies5);
    public long Dropped => Volatile.Read(ref _dropped);
    public long Timeouts => Volatile.Read(ref _timeouts);
    public long Malformed => Volatile.Read(ref _malformed);
    public LatencyHistogram Latency => _latency;
    public LatencyHistogram AcceptLatency => _accept;

    /// <summary>
    /// Called by the run's heartbeat: when the session has waited on the server longer than
    /// <paramref name="timeoutTicks"/>, its socket is closed and the wait ends as a timeout.
    /// </summary>
    public void CheckTimeout(long now, long timeoutTicks)
    {
        long since = Volatile.Read(ref _waitSince);
        if (since != 0 && now - since > timeoutTicks)
        {
            _timedOut = true;
            Volatile.Write(ref _waitSince, 0);
            _socket?.Dispose();
        }
    }

    /// <summary>Sends messages until the run has none left, then ends the connection with QUIT.</summary>
    public async Task RunAsync()
    {
        int onConnection = 0;
        while (true)
        {
            long scheduled = 0;
            if (_run.OpenLoop)
            {
                scheduled = await _run.NextSlotAsync().ConfigureAwait(false);
                if (scheduled < 0)
                {
                    break;
                }
            }
            else if (!_run.TryClaim())
            {
                break;
            }

            if (_socket is null)
            {
                if (!await OpenAsync().ConfigureAwait(false))
                {
                    await _run.AfterConnectFailureAsync().ConfigureAwait(false);
                    continue;
                }

                onConnection = 0;
            }

            Ending ending;
            try
            {
                ending = await SendOneAsync(_run.NextNumber(), scheduled).ConfigureAwait(false);
            }
            catch (Exception e) when (IsConnectionError(e))
            {
                CountFailure(e);
                Close();
                continue;
            }

            onConnection++;
            if (ending == Ending.Closed)
            {
                Close();
            }
            else if (_run.PerConnection > 0 && onConnection >= _run.PerConnection)
            {
                await QuitAsync().ConfigureAwait(false);
            }
        }

        if (_socket is not null)
        {
            await QuitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Connects, reads the greeting and says EHLO (or HELO). Counts what went wrong itself.</summary>
    private async ValueTask<bool> OpenAsync()
    {
        var socket = new Socket(_run.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket = socket;
        _rs = 0;
        _re = 0;
        _timedOut = false;
        try
        {
            Volatile.Write(ref _waitSince, Stopwatch.GetTimestamp());
            await socket.ConnectAsync(_run.EndPoint).ConfigureAwait(false);
            Volatile.Write(ref _waitSince, 0);
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            Volatile.Write(ref _waitSince, 0);
            _run.CountConnectFailure();
            Close();
            return false;
        }

        _run.CountConnection();
        try
        {
            int code = await ReadReplyAsync().ConfigureAwait(false);
            if (code != 220)
            {
                CountRefusal(code);
                _run.CountConnectFailure();
                Close();
                return false;
            }

            _pipelining = false;
            code = 0;
            if (_run.Options.Ehlo)
            {
                _sawPipelining = false;
                await SendAsync(_script.Ehlo).ConfigureAwait(false);
                code = await ReadReplyAsync().ConfigureAwait(false);
                _pipelining = code / 100 == 2 && _sawPipelining && _run.Options.Pipelining;
            }

            if (code / 100 != 2)
            {
                await SendAsync(_script.Helo).ConfigureAwait(false);
                code = await ReadReplyAsync().ConfigureAwait(false);
                if (code / 100 != 2)
                {
                    CountRefusal(code);
                    _run.CountConnectFailure();
                    Close();
                    return false;
                }
            }

            return true;
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            CountFailure(e);
            Close();
            return false;
        }
    }

    /// <summary>
    /// One transaction: MAIL, RCPT..., DATA, the text, the final reply; RSET after a refusal. Its
    /// latency counts from <paramref name="scheduled"/> (open loop) or else from now.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Ending> SendOneAsync(long number, long scheduled)
    {
        _messages++;
        long start = scheduled != 0 ? scheduled : Stopwatch.GetTimestamp();
        int accepted = 0;
        int code;
        bool mailOk;
        if (_pipelining)
        {
            await SendAsync(_script.Group).ConfigureAwait(false);
            code = await ReadReplyAsync().ConfigureAwait(false);
            mailOk = code / 100 == 2;
            if (!mailOk && CountRefusal(code))
            {
                return Ending.Closed;
            }

            for (int i = 0; i < _script.Rcpts.Length; i++)
            {
                code = await ReadReplyAsync().ConfigureAwait(false);
                if (code / 100 == 2)
                {
                    accepted++;
                }
                else if (CountRefusal(code))
                {
                    return Ending.Closed;
                }
            }

            code = await ReadReplyAsync().ConfigureAwait(false);
            if (code != 354)
            {
                return CountRefusal(code) ? Ending.Closed : await ResetAsync().ConfigureAwait(false);
            }

            if (!mailOk || accepted == 0)
            {
                // RFC 2920: DATA went with the group and was accepted although nobody can receive
                // the message; end it empty and undo the transaction.
                await SendAsync(_script.EndOfData).ConfigureAwait(false);
                code = await ReadReplyAsync().ConfigureAwait(false);
                return CountRefusal(code) ? Ending.Closed : await ResetAsync().ConfigureAwait(false);
            }
        }
        else
        {
            await SendAsync(_script.Mail).ConfigureAwait(false);
            code = await ReadReplyAsync().ConfigureAwait(false);
            if (code / 100 != 2)
            {
                return CountRefusal(code) ? Ending.Closed : await ResetAsync().ConfigureAwait(false);
            }

            for (int i = 0; i < _script.Rcpts.Length; i++)
            {
                await SendAsync(_script.Rcpts[i]).ConfigureAwait(false);
                code = await ReadReplyAsync().ConfigureAwait(false);
                if (code / 100 == 2)
                {
                    accepted++;
                }
                else if (CountRefusal(code))
                {
                    return Ending.Closed;
                }
            }

            if (accepted == 0)
            {
                return await ResetAsync().ConfigureAwait(false);
            }

            await SendAsync(_script.Data).ConfigureAwait(false);
            code = await ReadReplyAsync().ConfigureAwait(false);
            if (code != 354)
            {
                return CountRefusal(code) ? Ending.Closed : await ResetAsync().ConfigureAwait(false);
            }
        }

        await SendMessageAsync(number).ConfigureAwait(false);
        long dot = Stopwatch.GetTimestamp();
        code = await ReadReplyAsync().ConfigureAwait(false);
        long replied = Stopwatch.GetTimestamp();
        if (_run.Measured(start))
        {
            _latency.Record((long)Stopwatch.GetElapsedTime(start, replied).TotalMicroseconds);
            _accept.Record((long)Stopwatch.GetElapsedTime(dot, replied).TotalMicroseconds);
        }

        switch (code / 100)
        {
            case 2:
                _replies2++;
                _accepted++;
                _run.AcceptedIds?.Record(number, _script.AcceptedIdEnd);
                break;
            case 4:
                _replies4++;
                break;
            default:
                _replies5++;
                break;
        }

        return code == 421 ? Ending.Closed : Ending.Open;
    }

    /// <summary>Counts a 4xx/5xx reply; true when it was 421 (the server closes the connection).</summary>
    private bool CountRefusal(int code)
    {
        if (code / 100 == 4)
        {
            _replies4++;
        }
        else if (code / 100 == 5)
        {
            _replies5++;
        }

        return code == 421;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Ending> ResetAsync()
    {
        await SendAsync(_script.Rset).ConfigureAwait(false);
        int code = await ReadReplyAsync().ConfigureAwait(false);
        return code == 421 ? Ending.Closed : Ending.Open;
    }

    private async ValueTask QuitAsync()
    {
        try
        {
            await SendAsync(_script.Quit).ConfigureAwait(false);
            await ReadReplyAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            // The messages are done; how the server ends the connection is not counted.
        }
        finally
        {
            Close();
        }
    }

    private void Close()
    {
        _socket?.Dispose();
        _socket = null;
        _timedOut = false;
    }

    private void CountFailure(Exception e)
    {
        if (e is MalformedReplyException)
        {
            _malformed++;
        }
        else if (_timedOut)
        {
            _timeouts++;
        }
        else
        {
            _dropped++;
        }
    }

    private static bool IsConnectionError(Exception e) =>
        e is SocketException or ObjectDisposedException or IOException or MalformedReplyException or ConnectionDroppedException or OperationCanceledException;

    /// <summary>Writes the message text and the final dot, sending whenever the buffer is full.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendMessageAsync(long number)
    {
        _sendLen = WriteHeader(_send, number);
        int body = Math.Max(0, _script.Size - _sendLen);
        int whole = body / LoadScript.LineLength * LoadScript.LineLength;
        int rest = body - whole;
        int phase = 0;
        while (whole > 0)
        {
            int space = _send.Length - _sendLen;
            if (space < LoadScript.LineLength)
            {
                await FlushAsync().ConfigureAwait(false);
                continue;
            }

            int n = Math.Min(space, whole);
            _script.Filler.AsSpan(phase, n).CopyTo(_send.AsSpan(_sendLen));
            _sendLen += n;
            whole -= n;
            phase = (phase + n) % LoadScript.LineLength;
        }

        if (_send.Length - _sendLen < LoadScript.LineLength + 3)
        {
            await FlushAsync().ConfigureAwait(false);
        }

        if (rest >= 3)
        {
            _script.Filler.AsSpan(0, rest - 2).CopyTo(_send.AsSpan(_sendLen));
            _sendLen += rest - 2;
        }

        if (rest >= 2)
        {
            _send[_sendLen++] = (byte)'\r';
            _send[_sendLen++] = (byte)'\n';
        }

        _script.EndOfData.CopyTo(_send.AsSpan(_sendLen));
        _sendLen += _script.EndOfData.Length;
        await FlushAsync().ConfigureAwait(false);
    }

    /// <summary>From:, To:, Subject: load N, Date:, Message-ID: and the empty line; returns the length.</summary>
    private int WriteHeader(Span<byte> to, long number)
    {
        int at = 0;
        _script.HeaderStart.CopyTo(to);
        at += _script.HeaderStart.Length;
        Utf8Formatter.TryFormat(number, to[at..], out int w);
        at += w;
        LoadScript.DateLabel.CopyTo(to[at..]);
        at += LoadScript.DateLabel.Length;
        long second = Environment.TickCount64 / 1000;
        if (second != _dateSecond)
        {
            _dateSecond = second;
            DateTime.UtcNow.TryFormat(_date, out _dateLen, "ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture);
        }

        _date.AsSpan(0, _dateLen).CopyTo(to[at..]);
        at += _dateLen;
        LoadScript.MessageIdLabel.CopyTo(to[at..]);
        at += LoadScript.MessageIdLabel.Length;
        Utf8Formatter.TryFormat(number, to[at..], out w);
        at += w;
        _script.MessageIdEnd.CopyTo(to[at..]);
        return at + _script.MessageIdEnd.Length;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAsync()
    {
        await SendAsync(_send.AsMemory(0, _sendLen)).ConfigureAwait(false);
        _sendLen = 0;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendAsync(ReadOnlyMemory<byte> data)
    {
        Socket socket = _socket ?? throw new ConnectionDroppedException();
        while (!data.IsEmpty)
        {
            int n = await socket.SendAsync(data, SocketFlags.None).ConfigureAwait(false);
            data = data[n..];
        }
    }

    /// <summary>Reads one whole reply (every line of a multi-line one) and returns its code.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadReplyAsync()
    {
        while (true)
        {
            if (TryParseReply(out int code))
            {
                return code;
            }

            if (_rs == _re)
            {
                _rs = 0;
                _re = 0;
            }
            else if (_re == _recv.Length)
            {
                if (_rs == 0)
                {
                    throw new MalformedReplyException(); // one reply larger than the buffer
                }

                _recv.AsSpan(_rs, _re - _rs).CopyTo(_recv);
                _re -= _rs;
                _rs = 0;
            }

            Socket socket = _socket ?? throw new ConnectionDroppedException();
            Volatile.Write(ref _waitSince, Stopwatch.GetTimestamp());
            int n = await socket.ReceiveAsync(_recv.AsMemory(_re), SocketFlags.None).ConfigureAwait(false);
            Volatile.Write(ref _waitSince, 0);
            if (n == 0)
            {
                throw new ConnectionDroppedException();
            }

            _re += n;
        }
    }

    /// <summary>
    /// Parses a complete reply at the start of the unread bytes: lines "ddd-text" then "ddd text"
    /// (or "ddd"), CRLF or LF. False when it is not all there yet. Notes PIPELINING in an EHLO reply.
    /// </summary>
    private bool TryParseReply(out int code)
    {
        code = 0;
        int pos = _rs;
        while (true)
        {
            ReadOnlySpan<byte> unread = _recv.AsSpan(pos, _re - pos);
            int lf = unread.IndexOf((byte)'\n');
            if (lf < 0)
            {
                return false;
            }

            ReadOnlySpan<byte> line = unread[..lf];
            if (!line.IsEmpty && line[^1] == '\r')
            {
                line = line[..^1];
            }

            if (line.Length < 3 || line[0] < '2' || line[0] > '5' || !char.IsAsciiDigit((char)line[1]) || !char.IsAsciiDigit((char)line[2])
                || (line.Length > 3 && line[3] != ' ' && line[3] != '-'))
            {
                throw new MalformedReplyException();
            }

            code = ((line[0] - '0') * 100) + ((line[1] - '0') * 10) + (line[2] - '0');
            if (line.Length >= 14 && Ascii.EqualsIgnoreCase(line.Slice(4, 10), "PIPELINING"u8)
                && (line.Length == 14 || line[14] == ' '))
            {
                _sawPipelining = true;
            }

            pos += lf + 1;
            if (line.Length == 3 || line[3] == ' ')
            {
                _rs = pos;
                return true;
            }
        }
    }
}

/// <summary>The server sent something that is not an SMTP reply.</summary>
internal sealed class MalformedReplyException : Exception
{
}

/// <summary>The server closed the connection in the middle of a transaction.</summary>
internal sealed class ConnectionDroppedException : Exception
{
}
