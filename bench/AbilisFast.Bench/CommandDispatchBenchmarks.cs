using System.Text;
using AbilisFast.Protocol.Addressing;
using AbilisFast.Protocol.Commands;
using AbilisFast.Protocol.Esmtp;
using AbilisFast.Protocol.States;
using AbilisFast.Server.Spool;
using BenchmarkDotNet.Attributes;

namespace AbilisFast.Bench;

/// <summary>
/// Command parsing and dispatch. The per-command benchmarks run what the session runs for one
/// line: verb parse, the state table check, then the argument work of that verb (HELO name check,
/// FROM:/TO: keyword, path parser, ESMTP parameter walk). <see cref="SessionBatch"/> sends the same
/// five commands pipelined through a real session over an inline pipe (replies included), per command.
/// </summary>
[MemoryDiagnoser]
public class CommandDispatchBenchmarks
{
    private const int BatchCommands = 5;

    private byte[] _ehlo = [];
    private byte[] _mail = [];
    private byte[] _rcpt = [];
    private byte[] _noop = [];
    private byte[] _rset = [];
    private byte[] _batch = [];
    private BenchServer? _server;
    private PipeSession? _session;

    [GlobalSetup]
    public void Setup()
    {
        _ehlo = "EHLO client-17.mail.example.net"u8.ToArray();
        _mail = "MAIL FROM:<newsletter-bounces+user=example.org@lists.example.com> SIZE=48213 BODY=8BITMIME RET=HDRS ENVID=QQ314159"u8.ToArray();
        _rcpt = "RCPT TO:<first.last@local.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;first.last@local.test"u8.ToArray();
        _noop = "NOOP"u8.ToArray();
        _rset = "RSET"u8.ToArray();
        _batch = Encoding.ASCII.GetBytes(string.Join("\r\n", new[] { _ehlo, _mail, _rcpt, _noop, _rset }.Select(Encoding.ASCII.GetString)) + "\r\n");

        // A refused command would measure the error path: check each one is accepted.
        if (Ehlo() < 0 || MailFromWithParameters() < 0 || RcptTo() < 0 || Noop() < 0 || Rset() < 0)
        {
            throw new InvalidOperationException("a benchmark command is refused by the dispatcher");
        }

        _server = new BenchServer(new SpoolOptions { SegmentSize = 4L << 20 }, "SINK:YES");
        _session = PipeSession.StartAsync(_server.Context, inline: true).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _session?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _server?.Dispose();
    }

    [Benchmark]
    public int Ehlo() => Dispatch(_ehlo, SmtpState.WaitHelo);

    [Benchmark]
    public int MailFromWithParameters() => Dispatch(_mail, SmtpState.WaitMail);

    [Benchmark]
    public int RcptTo() => Dispatch(_rcpt, SmtpState.WaitRcpt);

    [Benchmark]
    public int Noop() => Dispatch(_noop, SmtpState.Rcpt);

    [Benchmark]
    public int Rset() => Dispatch(_rset, SmtpState.Rcpt);

    /// <summary>EHLO, MAIL, RCPT, NOOP, RSET through an InSession; the time is per command.</summary>
    [Benchmark(OperationsPerInvoke = BatchCommands)]
    public ValueTask<long> SessionBatch() => _session!.ExchangeAsync(_batch, BatchCommands);

    /// <summary>Returns a value that depends on every step, so nothing is optimised away; -1 on a refusal.</summary>
    private static int Dispatch(ReadOnlySpan<byte> line, SmtpState state)
    {
        SmtpVerb verb = CommandParser.Parse(line, out ReadOnlySpan<byte> argument);
        if (verb == SmtpVerb.Unknown || !InCommandTable.IsAllowed(state, verb))
        {
            return -1;
        }

        switch (verb)
        {
            case SmtpVerb.Helo:
            case SmtpVerb.Ehlo:
                argument = argument.Trim((byte)' ');
                return argument.Length is > 0 and <= 255 && argument.IndexOfAnyExceptInRange((byte)'!', (byte)'~') < 0 ? argument.Length : -1;
            case SmtpVerb.Mail:
                return Path(argument, "FROM:"u8, PathKind.Reverse);
            case SmtpVerb.Rcpt:
                return Path(argument, "TO:"u8, PathKind.Forward);
            case SmtpVerb.Rset:
            case SmtpVerb.Noop:
                return argument.IsEmpty ? (int)verb : -1;
            default:
                return -1;
        }
    }

    private static int Path(ReadOnlySpan<byte> argument, ReadOnlySpan<byte> keyword, PathKind kind)
    {
        if (!CommandParser.TryStripKeyword(argument, keyword, out ReadOnlySpan<byte> rest)
            || PathParser.TryParse(rest, kind, out ParsedPath path) != PathStatus.Ok)
        {
            return -1;
        }

        int result = path.LocalLength + path.DomainLength;
        var parameters = new EsmtpParameterEnumerator(path.Parameters(rest));
        while (parameters.MoveNext())
        {
            EsmtpParameter p = parameters.Current;
            if (p.Is("SIZE"u8))
            {
                result += EsmtpParameters.TryParseSize(p.Value, out long size) ? (int)(size & 0xFF) : -1000;
            }
            else if (p.Is("ENVID"u8) || p.Is("ORCPT"u8))
            {
                result += EsmtpParameters.IsValidXtext(p.Value) ? p.Value.Length : -1000;
            }
            else
            {
                result += p.Value.Length;
            }
        }

        return parameters.Malformed ? -1 : result;
    }
}
