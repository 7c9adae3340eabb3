using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using AbilisFast.Protocol.Lines;

namespace AbilisFast.Server.Sessions;

/// <summary>
/// The name a client gave in HELO or EHLO (and which of the two), kept for the Received: field and the
/// envelope; empty until the client greets, and again after STARTTLS. Names of up
/// to <see cref="InlineSize"/> octets (every real host name seen in practice) live inside the session
/// object; a longer one (up to the 512-octet command line) goes into an array rented from the pool and
/// given back when the session is reset, so an idle session does not carry a 512-byte buffer.
/// </summary>
internal struct HeloName
{
    public const int InlineSize = 64;

    private Inline _inline;
    private byte[]? _long;
    private int _length;

    /// <summary>No HELO or EHLO yet (or none since STARTTLS).</summary>
    public readonly bool IsEmpty => _length == 0;

    /// <summary>The client greeted with EHLO (an ESMTP session), not HELO.</summary>
    public bool Extended { get; private set; }

    /// <summary>The stored octets; empty before the client greets.</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> Span =>
        _length <= InlineSize ? ((ReadOnlySpan<byte>)_inline)[.._length] : _long.AsSpan(0, _length);

    /// <summary>Copies <paramref name="name"/> (at most one command line long), given with EHLO when <paramref name="extended"/>.</summary>
    public void Set(ReadOnlySpan<byte> name, bool extended)
    {
        if (name.Length <= InlineSize)
        {
            name.CopyTo(_inline);
        }
        else
        {
            _long ??= ArrayPool<byte>.Shared.Rent(LineReader.MaxCommandLine);
            name.CopyTo(_long);
        }

        _length = name.Length;
        Extended = extended;
    }

    /// <summary>Forgets the greeting (RFC 3207: after STARTTLS the client must greet again); keeps a rented array.</summary>
    public void Forget()
    {
        _length = 0;
        Extended = false;
    }

    /// <summary>Forgets the greeting and gives a rented array back (the session is going back to its pool).</summary>
    public void Release()
    {
        Forget();
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
