using System.Buffers;
using System.Security.Cryptography;

namespace AbilisFast.Server.Signing;

/// <summary>
/// The "relaxed" canonicalisations of RFC 6376 3.4.2 and 3.4.4. The body hasher streams: the text
/// goes through in chunks of any size and only the hash state, a small output buffer and two
/// flags are kept, never the body.
/// </summary>
internal static class DkimCanonicalization
{
    /// <summary>
    /// Relaxed header canonicalisation of one field as it stands in the message (name, colon, value,
    /// its CRLF and continuation lines): the name in lower case, the value unfolded, every run of
    /// WSP made one SP, WSP around the colon and at the end dropped; then CRLF.
    /// </summary>
    public static void RelaxedHeader(ReadOnlySpan<byte> field, IBufferWriter<byte> output)
    {
        int colon = field.IndexOf((byte)':');
        if (colon < 0)
        {
            throw new ArgumentException("a header field has a colon", nameof(field));
        }

        ReadOnlySpan<byte> name = field[..colon].TrimEnd(" \t"u8);
        Span<byte> target = output.GetSpan(name.Length + field.Length + 3);
        int n = 0;
        foreach (byte b in name)
        {
            target[n++] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b;
        }

        target[n++] = (byte)':';
        bool space = false;
        bool any = false;
        foreach (byte b in field[(colon + 1)..])
        {
            switch (b)
            {
                case (byte)'\r' or (byte)'\n':
                    break; // unfold
                case (byte)' ' or (byte)'\t':
                    space = true;
                    break;
                default:
                    if (space && any)
                    {
                        target[n++] = (byte)' ';
                    }

                    space = false;
                    any = true;
                    target[n++] = b;
                    break;
            }
        }

        target[n++] = (byte)'\r';
        target[n++] = (byte)'\n';
        output.Advance(n);
    }
}

/// <summary>
/// SHA-256 of the relaxed canonical body (RFC 6376 3.4.4), fed the body as it goes out (CRLF line
/// ends, which <see cref="AbilisFast.Protocol.Data.OutgoingText"/> guarantees; a CR is ignored and a LF ends a
/// line): WSP at the end of a line dropped, other runs of WSP made one SP, empty lines at the end
/// dropped, and a last line without CRLF ended with one (as it is on the wire, where the end of data
/// adds it). An empty body hashes as no octets at all.
/// </summary>
internal sealed class DkimBodyHasher : IDisposable
{
    private static readonly SearchValues<byte> Special = SearchValues.Create(" \t\r\n"u8);

    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _buffer = new byte[8192];
    private int _buffered;
    private long _emptyLines;
    private bool _space;
    private bool _content;

    /// <summary>Octets of canonical body hashed so far.</summary>
    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> text)
    {
        while (!text.IsEmpty)
        {
            int special = text.IndexOfAny(Special);
            if (special != 0)
            {
                ReadOnlySpan<byte> run = special < 0 ? text : text[..special];
                StartContent();
                Emit(run);
                if (special < 0)
                {
                    return;
                }

                text = text[special..];
            }

            byte b = text[0];
            text = text[1..];
            if (b == (byte)'\n')
            {
                EndLine();
            }
            else if (b != (byte)'\r')
            {
                _space = true;
            }
        }
    }

    /// <summary>The body hash (bh=).</summary>
    public byte[] Finish()
    {
        if (_content || _space)
        {
            EndLine();
        }

        FlushBuffer();
        return _hash.GetHashAndReset();
    }

    private void StartContent()
    {
        if (!_content)
        {
            for (long i = 0; i < _emptyLines; i++)
            {
                Emit("\r\n"u8);
            }

            _emptyLines = 0;
            _content = true;
            if (_space)
            {
                Emit(" "u8); // leading WSP is kept, as one SP
            }
        }
        else if (_space)
        {
            Emit(" "u8);
        }

        _space = false;
    }

    private void EndLine()
    {
        _space = false; // trailing WSP is dropped
        if (_content)
        {
            Emit("\r\n"u8);
            _content = false;
        }
        else
        {
            _emptyLines++; // held back: dropped if only empty lines follow
        }
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        Length += bytes.Length;
        if (bytes.Length > _buffer.Length - _buffered)
        {
            FlushBuffer();
            if (bytes.Length > _buffer.Length)
            {
                _hash.AppendData(bytes);
                return;
            }
        }

        bytes.CopyTo(_buffer.AsSpan(_buffered));
        _buffered += bytes.Length;
    }

    private void FlushBuffer()
    {
        _hash.AppendData(_buffer.AsSpan(0, _buffered));
        _buffered = 0;
    }

    public void Dispose() => _hash.Dispose();
}
