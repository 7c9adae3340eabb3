using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using AbilisFast.Protocol.Lines;

namespace AbilisFast.Server.Sessions;

/// <summary>
/// The name a client gave in HELO or EHLO, kept for the Received: field and the envelope. Names of up
/// to <see cref="InlineSize"/> octets (every real host name seen in practice) live inside the session
/// object; a longer one (up to the 512-octet command line) goes into an array rented from the pool and
/// given back when the session is reset, so an idle session does not carry a 512-byte buffer.
/// </summary>
internal struct HeloName
{
    public const int InlineSize = 64;

    private Inline _inline;
    private byte[]? _long;

    /// <summary>Copies <paramref name="name"/> (at most one command line long).</summary>
    public void Set(ReadOnlySpan<byte> name)
    {
        if (name.Length <= InlineSize)
        {
            name.CopyTo(_inline);
            return;
        }

        _long ??= ArrayPool<byte>.Shared.Rent(LineReader.MaxCommandLine);
        name.CopyTo(_long);
    }

    /// <summary>The stored octets: <paramref name="length"/> is the length of the name last set.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> AsSpan(int start, int length) =>
        length <= InlineSize ? ((ReadOnlySpan<byte>)_inline).Slice(start, length) : _long.AsSpan(start, length);

    /// <summary>Gives a rented array back (the session is going back to its pool).</summary>
    public void Release()
    {
        if (_long is not null)
        {
            ArrayPool<byte>.Shared.Return(_long);
            _long = null;
        }
    }

    [InlineArray(InlineSize)]
    private struct Inline
    {
        private byte _element;
    }
}
