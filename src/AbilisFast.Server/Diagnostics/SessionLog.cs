using System.Runtime.CompilerServices;
using System.Text.Unicode;
using AbilisFast.Protocol.Lines;

namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// The SMTP session log shown by the console (<c>debug res:smtp lsn:3</c>): a fixed ring of
/// <see cref="BufferLength"/> bytes that any number of sessions append lines to without locks,
/// overwriting the oldest lines. See SessionLog.Ring.cs for the concurrency scheme.
/// Line format: <c>DD/MM HH:MM:SS [  N] text</c>.
/// </summary>
internal sealed partial class SessionLog
{
    /// <summary>Size of the ring in bytes, as reported by the console (<c>BufferLength:64512</c>).</summary>
    public const int BufferLength = 64512;

    /// <summary>Longest stored line in bytes (timestamp and tag included, CRLF excluded).</summary>
    public const int MaxLineLength = 400;

    private const int PrefixLength = 15; // "DD/MM HH:MM:SS "

    private volatile bool _verbose;

    public SessionLog()
        : this(TimeProvider.System)
    {
    }

    public SessionLog(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _time = timeProvider;
    }

    /// <summary>Console debug switch (<c>lsn:1</c>): callers log detail lines only when set.</summary>
    public bool Verbose
    {
        get => _verbose;
        set => _verbose = value;
    }

    /// <summary>Appends one line. CR/LF become spaces; text beyond <see cref="MaxLineLength"/> is cut.</summary>
    public void Write(LogTag tag, ReadOnlySpan<byte> utf8Text)
    {
        Span<byte> line = stackalloc byte[MaxLineLength];
        GetPrefix().CopyTo(line);
        int length = PrefixLength + tag.FormatTo(line[PrefixLength..]);
        length += CopySanitized(utf8Text, line[length..]);
        Append(line[..length]);
    }

    /// <summary>Appends one line given as UTF-16 text.</summary>
    public void Write(LogTag tag, ReadOnlySpan<char> text)
    {
        Span<byte> utf8 = stackalloc byte[MaxLineLength];
        // Stops at the last whole character that fits: that is the truncation.
        Utf8.FromUtf16(text, utf8, out _, out int written, replaceInvalidSequences: true, isFinalBlock: true);
        Write(tag, utf8[..written]);
    }

    /// <summary>
    /// Allocation-free formatted line: <c>log.Write(LogTag.Channel(3), $"Delivering message: {id:X8}")</c>
    /// formats straight into a stack buffer held by the handler.
    /// </summary>
    public void Write(LogTag tag, [InterpolatedStringHandlerArgument] ref SessionLogLineHandler text)
        => Write(tag, text.Written);

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/>, cutting at a UTF-8 character
    /// boundary when it does not fit. CR and LF become spaces and other control bytes '?', so a record is
    /// always exactly one line; bytes 0xF5..0xFF (never valid UTF-8) become '?' as well, which keeps the
    /// ring's record headers (whose top byte is 0xFF) distinguishable from any text.
    /// </summary>
    internal static int CopySanitized(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int length = source.Length;
        if (length > destination.Length)
        {
            length = destination.Length;
            // source[length] is the first byte left out; if it continues a character, back off to
            // that character's lead byte (at most 3 steps; malformed runs are cut where they are).
            int cut = length;
            while (cut > 0 && length - cut < 3 && (source[cut] & 0xC0) == 0x80)
            {
                cut--;
            }

            if ((source[cut] & 0xC0) != 0x80)
            {
                length = cut;
            }
        }

        for (int i = 0; i < length; i++)
        {
            byte b = source[i];
            destination[i] = b switch
            {
                (byte)'\r' or (byte)'\n' => (byte)' ',
                (byte)'\t' => b,
                < 0x20 or 0x7F or >= 0xF5 => (byte)'?',
                _ => b,
            };
        }

        // C1 controls (U+0085, U+009B CSI), U+2028/U+2029 and bidi controls: '?' as well, byte for byte.
        UnsafeText.ReplaceInPlace(destination[..length]);
        return length;
    }
}
