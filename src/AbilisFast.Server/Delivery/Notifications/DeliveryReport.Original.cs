using System.Buffers;

namespace AbilisFast.Server.Delivery;

/// <summary>Reading the original message for the third part: normalised lines, the 10 MiB cap.</summary>
internal static partial class DeliveryReport
{
    /// <summary>Largest original returned in full; beyond it only the header section is returned.</summary>
    public const int MaxReturnedOctets = 10 * 1024 * 1024;

    /// <summary>What the third part carries.</summary>
    private sealed class ReturnedOriginal
    {
        public required byte[] Content { get; init; }

        /// <summary>True = the whole message (message/rfc822); false = its header section (text/rfc822-headers).</summary>
        public bool IsFull { get; init; }

        /// <summary>The whole message was asked for (RET=FULL) but was larger than the cap.</summary>
        public bool TooLarge { get; init; }

        /// <summary>The header section alone was larger than the cap and was cut after its last whole line.</summary>
        public bool HeadersTruncated { get; init; }
    }

    /// <summary>
    /// Reads the original: every line end (CRLF, bare LF, bare CR) becomes CRLF, header lines over
    /// 998 octets are folded, body lines over 998 octets are broken. Reads at most the cap plus one
    /// octet, and for the header section only up to its empty line.
    /// </summary>
    private static ReturnedOriginal ReadOriginal(Func<Stream> open, bool full)
    {
        using var reader = new OriginalReader(full);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            using Stream stream = open();
            long total = 0;
            while (!reader.Done)
            {
                int want = (int)Math.Min(buffer.Length, MaxReturnedOctets + 1L - total);
                int read = stream.Read(buffer, 0, want);
                if (read == 0)
                {
                    reader.Finish();
                    break;
                }

                total += read;
                reader.Feed(buffer.AsSpan(0, read));
                if (!reader.Done && (total > MaxReturnedOctets || reader.OutputLength > MaxReturnedOctets))
                {
                    reader.Overflow();
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return reader.Result();
    }

    /// <summary>Splits raw octets into lines and writes them, normalised, to the header or body output.</summary>
    private sealed class OriginalReader(bool full) : IDisposable
    {
        private readonly MemoryStream _headers = new();
        private readonly MemoryStream _body = new();
        private readonly MemoryStream _line = new();
        private bool _inHeaders = true;
        private bool _sawEmptyLine;
        private bool _pendingCr;
        private bool _overflow;

        public bool Done { get; private set; }

        public long OutputLength => _headers.Length + _body.Length;

        public void Feed(ReadOnlySpan<byte> chunk)
        {
            while (!chunk.IsEmpty && !Done)
            {
                if (_pendingCr)
                {
                    _pendingCr = false;
                    if (chunk[0] == (byte)'\n')
                    {
                        chunk = chunk[1..];
                    }

                    EndLine();
                    continue;
                }

                int end = chunk.IndexOfAny((byte)'\r', (byte)'\n');
                if (end < 0)
                {
                    _line.Write(chunk);
                    return;
                }

                _line.Write(chunk[..end]);
                if (chunk[end] == (byte)'\r')
                {
                    _pendingCr = true;
                }
                else
                {
                    EndLine();
                }

                chunk = chunk[(end + 1)..];
            }
        }

        /// <summary>End of the stream: a last line without a line end still counts.</summary>
        public void Finish()
        {
            if (!Done && (_pendingCr || _line.Length > 0))
            {
                _pendingCr = false;
                EndLine();
            }

            Done = true;
        }

        /// <summary>Over the cap: stop; the partial line is dropped.</summary>
        public void Overflow()
        {
            _overflow = true;
            Done = true;
        }

        public void Dispose()
        {
            _headers.Dispose();
            _body.Dispose();
            _line.Dispose();
        }

        public ReturnedOriginal Result()
        {
            if (full && !_overflow)
            {
                var whole = new MemoryStream((int)OutputLength + 2);
                _headers.WriteTo(whole);
                if (_sawEmptyLine)
                {
                    whole.Write(MailLines.Crlf);
                }

                _body.WriteTo(whole);
                return new ReturnedOriginal { Content = whole.ToArray(), IsFull = true };
            }

            return new ReturnedOriginal
            {
                Content = _headers.ToArray(),
                IsFull = false,
                TooLarge = full && _overflow,
                HeadersTruncated = _overflow && _inHeaders,
            };
        }

        private void EndLine()
        {
            ReadOnlySpan<byte> line = _line.GetBuffer().AsSpan(0, (int)_line.Length);
            if (_inHeaders)
            {
                if (line.IsEmpty)
                {
                    _inHeaders = false;
                    _sawEmptyLine = true;
                    Done = !full;
                }
                else
                {
                    MailLines.WriteHeaderField(_headers, line, MailLines.MaxLineOctets);
                }
            }
            else
            {
                MailLines.WriteBodyLine(_body, line);
            }

            _line.SetLength(0);
        }
    }
}
