using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Unicode;

namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// Interpolated string handler behind <see cref="SessionLog.Write(LogTag, ref SessionLogLineHandler)"/>:
/// formats literals and holes (invariant culture) as UTF-8 into a buffer that lives inside the handler,
/// i.e. on the caller's stack, so logging a formatted line allocates nothing. Text beyond
/// <see cref="SessionLog.MaxLineLength"/> bytes is dropped.
/// </summary>
[InterpolatedStringHandler]
internal ref struct SessionLogLineHandler
{
    private LineBuffer _buffer;
    private int _length;
    private bool _full;

    public SessionLogLineHandler(int literalLength, int formattedCount)
    {
        _ = literalLength;
        _ = formattedCount;
    }

    [UnscopedRef]
    internal readonly ReadOnlySpan<byte> Written => ((ReadOnlySpan<byte>)_buffer)[.._length];

    [UnscopedRef]
    private Span<byte> Free => ((Span<byte>)_buffer)[_length..];

    public void AppendLiteral(string value) => AppendChars(value);

    public void AppendFormatted(string? value) => AppendChars(value);

    public void AppendFormatted(scoped ReadOnlySpan<char> value) => AppendChars(value);

    /// <summary>A hole of UTF-8 bytes (e.g. a received SMTP line), copied as is.</summary>
    public void AppendFormatted(scoped ReadOnlySpan<byte> utf8)
    {
        if (_full)
        {
            return;
        }

        int count = SessionLog.CopySanitized(utf8, Free);
        _length += count;
        _full = count < utf8.Length;
    }

    public void AppendFormatted<T>(T value)
        where T : IUtf8SpanFormattable
        => AppendFormatted(value, format: null);

    /// <summary>
    /// Numbers, dates, addresses...: formatted in place through a constrained call, which does not
    /// box even in unoptimised code (a runtime "is IUtf8SpanFormattable" test would).
    /// </summary>
    public void AppendFormatted<T>(T value, string? format)
        where T : IUtf8SpanFormattable
    {
        if (_full)
        {
            return;
        }

        if (value.TryFormat(Free, out int written, format, CultureInfo.InvariantCulture))
        {
            _length += written;
            return;
        }

        // Does not fit: format aside and keep what fits.
        Span<byte> scratch = stackalloc byte[SessionLog.MaxLineLength];
        if (value.TryFormat(scratch, out written, format, CultureInfo.InvariantCulture))
        {
            AppendFormatted((ReadOnlySpan<byte>)scratch[..written]);
        }

        _full = true;
    }

    /// <summary>Anything else goes through ToString, which allocates.</summary>
    public void AppendFormatted(object? value, string? format = null)
        => AppendChars(value is IFormattable formattable
            ? formattable.ToString(format, CultureInfo.InvariantCulture)
            : value?.ToString());

    private void AppendChars(scoped ReadOnlySpan<char> chars)
    {
        if (_full)
        {
            return;
        }

        Utf8.FromUtf16(chars, Free, out int read, out int written, replaceInvalidSequences: true, isFinalBlock: true);
        _length += written;
        _full = read < chars.Length;
    }

    [InlineArray(SessionLog.MaxLineLength)]
    private struct LineBuffer
    {
        private byte _element;
    }
}
