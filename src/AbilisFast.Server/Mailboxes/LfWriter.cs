using System.Buffers;

namespace AbilisFast.Server.Mailboxes;

/// <summary>
/// Writes text with CRLF line ends (as SMTP carries it and the spool keeps it) to a file with LF
/// line ends, as Postfix's local(8), Exim, OpenSMTPD and Dovecot store Maildir messages and as mail
/// readers expect them. Streaming: the input comes in pieces of any size (a CRLF may be split
/// between two), the output goes through one pooled buffer, and nothing holds the whole message.
/// A CR that is not followed by LF is kept as it is.
/// </summary>
/// <remarks>
/// Counts what Dovecot's Maildir extension puts in the file name: <see cref="StoredSize"/> (S=, the
/// bytes written) and <see cref="VirtualSize"/> (W=, the size with every LF that has no CR before
/// it counted as CRLF: the size an IMAP client sees).
/// </remarks>
internal sealed class LfWriter : IDisposable
{
    private const byte Cr = (byte)'\r';
    private const byte Lf = (byte)'\n';

    private readonly Stream _output;
    private byte[] _buffer;
    private int _used;
    private bool _pendingCr;
    private byte _last;

    public LfWriter(Stream output, int bufferSize)
    {
        _output = output;
        _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
    }

    /// <summary>Bytes written to the output (after <see cref="Complete"/>: the stored size).</summary>
    public long StoredSize { get; private set; }

    /// <summary>The size with CRLF line ends.</summary>
    public long VirtualSize { get; private set; }

    /// <summary>Converts and writes <paramref name="input"/>, the next piece of the text.</summary>
    public void Write(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        if (_pendingCr)
        {
            // The previous piece ended in CR: dropped if this one starts with its LF, kept otherwise.
            _pendingCr = false;
            if (input[0] != Lf)
            {
                Emit([Cr]);
            }
        }

        while (!input.IsEmpty)
        {
            int cr = input.IndexOf(Cr);
            if (cr < 0)
            {
                Emit(input);
                return;
            }

            Emit(input[..cr]);
            if (cr == input.Length - 1)
            {
                _pendingCr = true; // decided by the next piece (or Complete)
                return;
            }

            if (input[cr + 1] != Lf)
            {
                Emit(input.Slice(cr, 1)); // a bare CR stays
            }

            input = input[(cr + 1)..];
        }
    }

    /// <summary>Writes what is still buffered (and a CR that ended the text).</summary>
    public void Complete()
    {
        if (_pendingCr)
        {
            _pendingCr = false;
            Emit([Cr]);
        }

        Flush();
    }

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Appends bytes that hold no CR to the output, counting both sizes.</summary>
    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        int lfs = bytes[0] == Cr ? 0 : bytes.Count(Lf);
        if (lfs > 0 && bytes[0] == Lf && _last == Cr)
        {
            lfs--; // this LF already has its CR (the text held CR CR LF)
        }

        StoredSize += bytes.Length;
        VirtualSize += bytes.Length + lfs;
        _last = bytes[^1];
        while (!bytes.IsEmpty)
        {
            if (_used == _buffer.Length)
            {
                Flush();
            }

            int n = Math.Min(bytes.Length, _buffer.Length - _used);
            bytes[..n].CopyTo(_buffer.AsSpan(_used));
            _used += n;
            bytes = bytes[n..];
        }
    }

    private void Flush()
    {
        if (_used > 0)
        {
            _output.Write(_buffer, 0, _used);
            _used = 0;
        }
    }
}
