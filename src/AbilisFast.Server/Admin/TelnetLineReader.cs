using System.Text;

namespace AbilisFast.Server.Admin;

/// <summary>What one read from a console connection gave.</summary>
internal enum TelnetLineStatus : byte
{
    Line,
    TooLong,
    Binary,
    Closed,
}

/// <summary>
/// Reads console lines from a telnet, nc or PuTTY client: telnet IAC negotiation is consumed
/// (IAC IAC is a data 0xFF), CRLF, CR NUL, CR alone and LF alone all end a line. A line over the
/// cap or holding control bytes is refused as a whole (and discarded up to its end), never buffered
/// without bound.
/// </summary>
internal sealed class TelnetLineReader(Stream stream, int maxLine = 256)
{
    private const byte Iac = 255;
    private const byte Se = 240;
    private const byte Sb = 250;
    private const byte Will = 251;
    private const byte Dont = 254;

    private readonly byte[] _buffer = new byte[1024];
    private readonly List<byte> _line = new(maxLine);
    private int _start;
    private int _end;
    private bool _afterCr;
    private bool _tooLong; // the line being read is over the cap
    private bool _binary; // the line being read holds a control byte

    /// <summary>True once the peer has sent any telnet negotiation (a real telnet client).</summary>
    public bool PeerSpeaksTelnet { get; private set; }

    public async Task<(TelnetLineStatus Status, string Text)> ReadLineAsync(CancellationToken cancellationToken)
    {
        _line.Clear();
        _tooLong = false;
        _binary = false;
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
                if (_end == 0)
                {
                    return (TelnetLineStatus.Closed, "");
                }
            }

            byte b = _buffer[_start++];
            if (b == Iac)
            {
                if (!await SkipCommandAsync(cancellationToken).ConfigureAwait(false))
                {
                    continue; // negotiation consumed
                }
            }
            else if (_afterCr && b is 0 or (byte)'\n')
            {
                // The second half of a CR NUL or CR LF line end.
                _afterCr = false;
                continue;
            }

            _afterCr = false;
            if (b is (byte)'\r' or (byte)'\n')
            {
                _afterCr = b == (byte)'\r';
                return EndOfLine();
            }

            Add(b);
        }
    }

    /// <summary>The line just ended: its text, or why it is refused.</summary>
    private (TelnetLineStatus Status, string Text) EndOfLine() =>
        _tooLong ? (TelnetLineStatus.TooLong, "")
        : _binary ? (TelnetLineStatus.Binary, "")
        : (TelnetLineStatus.Line, Encoding.ASCII.GetString(_line.ToArray()));

    /// <summary>One byte of the line: a tab becomes a space, another control byte marks the line binary, a byte past the cap marks it too long.</summary>
    private void Add(byte b)
    {
        if (b < 0x20 || b >= 0x7F)
        {
            if (b != (byte)'\t')
            {
                _binary = true;
                return;
            }

            b = (byte)' ';
        }

        if (_line.Count >= maxLine)
        {
            _tooLong = true;
            return;
        }

        _line.Add(b);
    }

    /// <summary>After an IAC: false when a negotiation was skipped, true when it was IAC IAC (a data byte, refused as binary by the caller).</summary>
    private async Task<bool> SkipCommandAsync(CancellationToken cancellationToken)
    {
        byte command = await NextAsync(cancellationToken).ConfigureAwait(false);
        if (command == Iac)
        {
            return true; // IAC IAC: one data byte 0xFF
        }

        PeerSpeaksTelnet = true;
        if (command is >= Will and <= Dont)
        {
            await NextAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (command == Sb)
        {
            // Subnegotiation: skip to IAC SE.
            byte previous = 0;
            while (true)
            {
                byte b = await NextAsync(cancellationToken).ConfigureAwait(false);
                if (previous == Iac && b == Se)
                {
                    break;
                }

                previous = b;
            }
        }

        return false;
    }

    private async Task<byte> NextAsync(CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            if (_end == 0)
            {
                throw new EndOfStreamException();
            }
        }

        return _buffer[_start++];
    }
}
