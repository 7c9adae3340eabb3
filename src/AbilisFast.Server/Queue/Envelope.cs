using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.Unicode;
using AbilisFast.Protocol.Esmtp;
using AbilisFast.Server.Delivery;

namespace AbilisFast.Server.Queue;

[Flags]
internal enum EnvelopeFlags : byte
{
    None = 0,
    SmtpUtf8 = 1,
    EightBitMime = 2,
    Internal = 4,
    Tls = 8,
    /// <summary>A failure notification this server generated (counted NOTIFY-SUCC/FAIL when it leaves the queue).</summary>
    Notification = 16,
    /// <summary>A success or delay report this server generated (counted in <c>d m smtp</c> only when it leaves the queue).</summary>
    Report = 32,
}

[Flags]
internal enum RecipientFlags : byte
{
    None = 0,
    Local = 1,
    Relay = 2,

    /// <summary>
    /// Resolved at RCPT to a mailbox here: the local part of the address is the mailbox folder
    /// (WDIR/mailboxes/FOLDER). Local recipients without it (STORE-MB:NO) go to SERVER.
    /// </summary>
    Mailbox = 4,
}

/// <summary>One recipient of a stored message, with its DSN NOTIFY and ORCPT (RFC 3461) as received.</summary>
internal readonly record struct EnvelopeRecipient(string Address, RecipientFlags Flags, DsnNotify Notify = DsnNotify.None, string? OriginalRecipient = null);

/// <summary>
/// The envelope of a stored message, decoded (for recovery and delivery; not on the receive path).
/// Binary layout, little-endian, version 2:
/// <c>u8 version, u8 flags, i64 received (Unix ms), u8 ip length + ip bytes, u16 + HELO,
/// u16 + reverse path (empty = null sender), u64 declared size, u8 RET, u16 + ENVID (empty = none),
/// u16 recipient count, then per recipient: u8 flags, u8 NOTIFY, u16 + address, u16 + ORCPT (empty = none)</c>.
/// Version 1 (no DSN fields) is still read.
/// </summary>
internal sealed class Envelope
{
    public const byte Version = 2;

    public required EnvelopeFlags Flags { get; init; }
    public required DateTimeOffset Received { get; init; }
    public required IPAddress? Client { get; init; }
    public required string Helo { get; init; }
    public required string Sender { get; init; }
    public required long DeclaredSize { get; init; }
    public required IReadOnlyList<EnvelopeRecipient> Recipients { get; init; }
    public DsnReturn Return { get; init; }
    /// <summary>ENVID as received (xtext), or null.</summary>
    public string? EnvelopeId { get; init; }

    public bool IsNullSender => Sender.Length == 0;

    /// <summary>Decodes an envelope; false for anything malformed (never throws on bad input).</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out Envelope? envelope)
    {
        envelope = null;
        var reader = new SpanCursor(data);
        byte ret = 0;
        string? envid = string.Empty;
        if (!reader.TryU8(out byte version) || version is not (1 or Version)
            || !reader.TryU8(out byte flags)
            || !reader.TryI64(out long receivedMs)
            || !reader.TryU8(out byte ipLength)
            || !reader.TryBytes(ipLength, out ReadOnlySpan<byte> ip)
            || !reader.TryString(out string? helo)
            || !reader.TryString(out string? sender)
            || !reader.TryI64(out long declared)
            || (version >= 2 && (!reader.TryU8(out ret) || ret > 2 || !reader.TryString(out envid)))
            || !reader.TryU16(out ushort count))
        {
            return false;
        }

        if (ipLength is not (0 or 4 or 16) || receivedMs < 0 || receivedMs > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            return false;
        }

        var recipients = new EnvelopeRecipient[count];
        for (int i = 0; i < count; i++)
        {
            byte notify = 0;
            string? orcpt = string.Empty;
            if (!reader.TryU8(out byte rflags)
                || (version >= 2 && !reader.TryU8(out notify))
                || !reader.TryString(out string? address)
                || (version >= 2 && !reader.TryString(out orcpt)))
            {
                return false;
            }

            recipients[i] = new EnvelopeRecipient(address!, (RecipientFlags)rflags, (DsnNotify)notify, orcpt!.Length == 0 ? null : orcpt);
        }

        if (!reader.AtEnd)
        {
            return false;
        }

        envelope = new Envelope
        {
            Flags = (EnvelopeFlags)flags,
            Received = DateTimeOffset.FromUnixTimeMilliseconds(receivedMs),
            Client = ipLength == 0 ? null : new IPAddress(ip),
            Helo = helo!,
            Sender = sender!,
            DeclaredSize = declared,
            Recipients = recipients,
            Return = (DsnReturn)ret,
            EnvelopeId = envid!.Length == 0 ? null : envid,
        };
        return true;
    }

    private ref struct SpanCursor(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _data = data;

        public readonly bool AtEnd => _data.IsEmpty;

        public bool TryU8(out byte value)
        {
            value = 0;
            if (_data.IsEmpty)
            {
                return false;
            }

            value = _data[0];
            _data = _data[1..];
            return true;
        }

        public bool TryU16(out ushort value)
        {
            value = 0;
            if (!BinaryPrimitives.TryReadUInt16LittleEndian(_data, out value))
            {
                return false;
            }

            _data = _data[2..];
            return true;
        }

        public bool TryI64(out long value)
        {
            if (!BinaryPrimitives.TryReadInt64LittleEndian(_data, out value))
            {
                return false;
            }

            _data = _data[8..];
            return true;
        }

        public bool TryBytes(int length, out ReadOnlySpan<byte> value)
        {
            value = default;
            if (_data.Length < length)
            {
                return false;
            }

            value = _data[..length];
            _data = _data[length..];
            return true;
        }

        public bool TryString(out string? value)
        {
            value = null;
            if (!TryU16(out ushort length) || !TryBytes(length, out ReadOnlySpan<byte> bytes) || !Utf8.IsValid(bytes))
            {
                return false;
            }

            value = Encoding.UTF8.GetString(bytes);
            return true;
        }
    }
}

/// <summary>
/// Builds an envelope in a pooled buffer as the transaction goes (MAIL, then each RCPT), so the
/// receive path allocates nothing per command. The recipient count is patched in at the end. The
/// buffer is rented at MAIL and given back at <see cref="Reset"/>: a session waiting between
/// transactions (or an idle one after EHLO) holds none.
/// </summary>
internal sealed class EnvelopeBuilder : IDisposable
{
    private const int InitialSize = 1024;

    private byte[] _buffer = [];
    private int _length;
    private int _countOffset;
    private int _senderOffset;
    private int _senderLength;

    public int RecipientCount { get; private set; }
    public RecipientFlags Kinds { get; private set; }

    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

    public void Begin(EnvelopeFlags flags, DateTimeOffset received, IPAddress? client,
        ReadOnlySpan<byte> helo, ReadOnlySpan<byte> sender, long declaredSize,
        DsnReturn ret = DsnReturn.Unspecified, ReadOnlySpan<byte> envelopeId = default)
    {
        _length = 0;
        RecipientCount = 0;
        Kinds = RecipientFlags.None;
        U8(Envelope.Version);
        U8((byte)flags);
        Span<byte> room = Room(8);
        BinaryPrimitives.WriteInt64LittleEndian(room, received.ToUnixTimeMilliseconds());
        _length += 8;
        Span<byte> ip = stackalloc byte[16];
        int ipLength = 0;
        if (client is not null && !client.TryWriteBytes(ip, out ipLength))
        {
            ipLength = 0;
        }

        U8((byte)ipLength);
        Bytes(ip[..ipLength]);
        String(helo);
        _senderOffset = _length + 2;
        _senderLength = Math.Min(sender.Length, ushort.MaxValue);
        String(sender);
        room = Room(8);
        BinaryPrimitives.WriteInt64LittleEndian(room, declaredSize);
        _length += 8;
        U8((byte)ret);
        String(envelopeId);
        _countOffset = _length;
        Room(2);
        _length += 2;
        PatchCount();
    }

    /// <summary>The reverse path given to <see cref="Begin"/> (empty for the null sender).</summary>
    public ReadOnlySpan<byte> Sender => _length == 0 ? default : _buffer.AsSpan(_senderOffset, _senderLength);

    /// <summary>The recipients added so far, in order (for the session log; no allocation).</summary>
    public RecipientEnumerator Recipients => new(_length == 0 ? default : _buffer.AsSpan(_countOffset + 2, _length - _countOffset - 2));

    public void AddRecipient(ReadOnlySpan<byte> address, RecipientFlags flags,
        DsnNotify notify = DsnNotify.None, ReadOnlySpan<byte> originalRecipient = default)
    {
        U8((byte)flags);
        U8((byte)notify);
        String(address);
        String(originalRecipient);
        RecipientCount++;
        Kinds |= flags;
        PatchCount();
    }

    /// <summary>Forgets the envelope and gives the buffer back to the pool (<see cref="Written"/> is empty after it).</summary>
    public void Reset()
    {
        _length = 0;
        RecipientCount = 0;
        Kinds = RecipientFlags.None;
        ReturnBuffer();
    }

    private void PatchCount() => BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_countOffset), (ushort)RecipientCount);

    private void U8(byte value)
    {
        Room(1)[0] = value;
        _length++;
    }

    private void String(ReadOnlySpan<byte> value)
    {
        int length = Math.Min(value.Length, ushort.MaxValue);
        BinaryPrimitives.WriteUInt16LittleEndian(Room(2), (ushort)length);
        _length += 2;
        Bytes(value[..length]);
    }

    private void Bytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(Room(value.Length));
        _length += value.Length;
    }

    private Span<byte> Room(int size)
    {
        if (_buffer.Length - _length < size)
        {
            byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(Math.Max(_buffer.Length * 2, InitialSize), _length + size));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            ReturnBuffer();
            _buffer = bigger;
        }

        return _buffer.AsSpan(_length, size);
    }

    private void ReturnBuffer()
    {
        if (_buffer.Length != 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    public void Dispose() => ReturnBuffer();

    /// <summary>Walks the recipient records: flags, NOTIFY, address, ORCPT.</summary>
    public ref struct RecipientEnumerator(ReadOnlySpan<byte> records)
    {
        private ReadOnlySpan<byte> _records = records;

        public ReadOnlySpan<byte> Current { get; private set; }

        public RecipientFlags CurrentFlags { get; private set; }

        public readonly RecipientEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_records.Length < 4)
            {
                return false;
            }

            CurrentFlags = (RecipientFlags)_records[0];
            int length = BinaryPrimitives.ReadUInt16LittleEndian(_records[2..]);
            Current = _records.Slice(4, length);
            int orcpt = BinaryPrimitives.ReadUInt16LittleEndian(_records[(4 + length)..]);
            _records = _records[(4 + length + 2 + orcpt)..];
            return true;
        }
    }
}
