using System.Buffers;
using AbilisFast.Protocol.Data;

namespace AbilisFast.Server.Delivery;

/// <summary>The outgoing text writer of an SMTP client connection.</summary>
internal sealed partial class SmtpClientConnection
{
    /// <summary>
    /// The outgoing text writer: stored text in, the bytes that go on the wire out. Stage by stage:
    /// <see cref="OutgoingText"/> (CRLF line ends, lines over 998 octets broken with CRLF SPACE as
    /// Postfix's smtp_line_length_limit: the message as the next hop will store it, and as the DKIM
    /// signer hashed it), <see cref="DotStuffEncoder"/> (RFC 5321 4.5.2 transparency) and the final
    /// ".". Header fields added on the way out (the DKIM signatures) go before the text, stuffed only.
    /// </summary>
    private sealed class WireText : IDisposable
    {
        private readonly OutgoingText _text;
        private readonly byte[] _output;
        private DotStuffEncoder _dots;

        public WireText(int chunk)
        {
            _text = new OutgoingText(chunk);
            _output = ArrayPool<byte>.Shared.Rent((2 * OutgoingText.MaxOutput(chunk)) + DotStuffer.MaxFinishLength);
        }

        /// <summary>CRLF SPACE breaks inserted into lines longer than 998 octets (for the session log).</summary>
        public long Folds => _text.Folds;

        /// <summary>
        /// Complete CRLF lines that go before the text (the DKIM-Signature fields, short lines), only
        /// dot-stuffed; they must fit the buffer (a few KiB at most). Valid until the next call.
        /// </summary>
        public ReadOnlyMemory<byte> EncodePrefix(ReadOnlySpan<byte> fields)
        {
            if ((2 * fields.Length) > _output.Length)
            {
                throw new ArgumentException("header fields added on the way out are too long", nameof(fields));
            }

            _dots.Encode(fields, _output, out _, out int written);
            return _output.AsMemory(0, written);
        }

        /// <summary>One chunk of stored text as it goes on the wire (valid until the next call).</summary>
        public ReadOnlyMemory<byte> Encode(ReadOnlySpan<byte> stored) => Stuff(_text.Transform(stored), finish: false);

        /// <summary>What is left after the last chunk, and the end of data.</summary>
        public ReadOnlyMemory<byte> Finish() => Stuff(_text.Flush(), finish: true);

        private ReadOnlyMemory<byte> Stuff(ReadOnlySpan<byte> text, bool finish)
        {
            _dots.Encode(text, _output, out _, out int written);
            if (finish)
            {
                _dots.Finish(_output.AsSpan(written), out int end);
                written += end;
            }

            return _output.AsMemory(0, written);
        }

        public void Dispose()
        {
            _text.Dispose();
            ArrayPool<byte>.Shared.Return(_output);
        }
    }
}
