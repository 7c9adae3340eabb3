using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using AbilisFast.Server.Runtime;
using AbilisFast.Server.Sessions;
using AbilisFast.Server.Transport;

namespace AbilisFast.Bench;

/// <summary>
/// One real <see cref="InSession"/> driven over in-memory pipes, the way the receive-path allocation
/// tests drive it: the benchmark writes a pipelined batch of client bytes and reads until the
/// session has sent the expected number of final reply lines. With <c>inline</c> pipe schedulers the
/// session runs on the writing thread, so the measurement is the protocol path alone.
/// </summary>
internal sealed class PipeSession : IAsyncDisposable
{
    private readonly PipeTransport _transport;
    private readonly Task _run;
    private readonly ReplyCounter _counter = new();

    private PipeSession(PipeTransport transport, Task run)
    {
        _transport = transport;
        _run = run;
    }

    /// <summary>Starts a session from 127.0.0.1 and consumes its greeting.</summary>
    public static async Task<PipeSession> StartAsync(SmtpContext context, bool inline)
    {
        var transport = new PipeTransport(new IPEndPoint(IPAddress.Loopback, 40000), inline: inline);
        var session = new InSession(context);
        Task run = Task.Run(() => session.RunAsync(transport, channel: null));
        var pipeSession = new PipeSession(transport, run);
        await pipeSession.ReadRepliesAsync(1).ConfigureAwait(false);
        return pipeSession;
    }

    /// <summary>Sends <paramref name="batch"/> and waits for <paramref name="replies"/> final reply lines.</summary>
    public async ValueTask<long> ExchangeAsync(byte[] batch, int replies)
    {
        FlushResult flushed = await _transport.ClientToServer.Writer.WriteAsync(batch).ConfigureAwait(false);
        if (flushed.IsCompleted || _run.IsCompleted)
        {
            throw new InvalidOperationException("the session ended");
        }

        return await ReadRepliesAsync(replies).ConfigureAwait(false);
    }

    private async ValueTask<long> ReadRepliesAsync(int replies)
    {
        PipeReader reader = _transport.ServerToClient.Reader;
        long seen = 0;
        while (seen < replies)
        {
            ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            seen += _counter.Count(buffer, out long failures);
            reader.AdvanceTo(buffer.End);
            if (failures != 0)
            {
                throw new InvalidOperationException("the session refused a command of the batch");
            }

            if (result.IsCompleted && seen < replies)
            {
                throw new InvalidOperationException("the session closed its output");
            }
        }

        return seen;
    }

    public async ValueTask DisposeAsync()
    {
        await _transport.ClientToServer.Writer.CompleteAsync().ConfigureAwait(false);
        await Task.WhenAny(_run, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Counts final reply lines (the fourth octet is not '-') across reads without allocating, and
    /// the ones whose code starts with 4 or 5 (a benchmark whose commands fail measures the wrong thing).
    /// </summary>
    private sealed class ReplyCounter
    {
        private int _column;
        private bool _continuation;
        private bool _failure;

        public long Count(ReadOnlySequence<byte> buffer, out long failures)
        {
            long finals = 0;
            failures = 0;
            foreach (ReadOnlyMemory<byte> memory in buffer)
            {
                foreach (byte b in memory.Span)
                {
                    if (b == (byte)'\n')
                    {
                        if (!_continuation)
                        {
                            finals++;
                            failures += _failure ? 1 : 0;
                        }

                        _column = 0;
                        _continuation = false;
                        _failure = false;
                        continue;
                    }

                    if (_column == 0)
                    {
                        _failure = b is (byte)'4' or (byte)'5';
                    }
                    else if (_column == 3)
                    {
                        _continuation = b == (byte)'-';
                    }

                    _column++;
                }
            }

            return finals;
        }
    }
}
