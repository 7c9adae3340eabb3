using System.Buffers;

namespace AbilisFast.Protocol.Data;

/// <summary>
/// The message text exactly as the next hop will store it: the stored text with every line ending
/// made CRLF (<see cref="RawNormalizer"/>; the spool already holds CRLF-only text, this is a guard)
/// and every line over 998 octets folded (<see cref="LineFolder"/>). Only dot-stuffing and the
/// final "." come after it. The delivery client sends what this produces, and the DKIM signer
/// (AbilisFast.Server.Signing.DkimSigner) hashes what it produces in its pass over the stored text
/// before the send: a transform of the outgoing text belongs here, so that both see it and a
/// signature stays valid on the wire.
/// </summary>
internal sealed class OutgoingText : IDisposable
{
    private readonly byte[] _normalized;
    private readonly byte[] _folded;
    private RawNormalizer _lineEnds;
    private LineFolder _folder;

    /// <param name="chunk">The longest input given to one <see cref="Transform"/>.</param>
    public OutgoingText(int chunk)
    {
        int normalized = (2 * chunk) + 2;
        _normalized = ArrayPool<byte>.Shared.Rent(normalized);
        _folded = ArrayPool<byte>.Shared.Rent(LineFolder.GetMaxFoldedLength(normalized));
    }

    /// <summary>The longest output of one call for an input of <paramref name="chunk"/> octets.</summary>
    public static int MaxOutput(int chunk) => LineFolder.GetMaxFoldedLength((2 * chunk) + 2);

    /// <summary>CRLF SPACE breaks inserted into lines longer than 998 octets.</summary>
    public long Folds => _folder.Folds;

    /// <summary>One chunk of stored text as it goes out (valid until the next call).</summary>
    public ReadOnlySpan<byte> Transform(ReadOnlySpan<byte> stored)
    {
        _lineEnds.Normalize(stored, _normalized, out int consumed, out int clean);
        System.Diagnostics.Debug.Assert(consumed == stored.Length, "normalized holds twice the input");
        return _folder.Fold(_normalized.AsSpan(0, clean), _folded);
    }

    /// <summary>After the last chunk: what is still held back (a CR at the very end).</summary>
    public ReadOnlySpan<byte> Flush()
    {
        _lineEnds.Flush(_normalized, out int tail);
        return _folder.Fold(_normalized.AsSpan(0, tail), _folded);
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_normalized);
        ArrayPool<byte>.Shared.Return(_folded);
    }
}
