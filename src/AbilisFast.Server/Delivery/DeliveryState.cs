using System.Buffers.Binary;
using System.Text;

namespace AbilisFast.Server.Delivery;

/// <summary>Where one recipient of a queued message stands.</summary>
internal enum RecipientStatus : byte
{
    /// <summary>Not delivered yet: tried on the next attempt.</summary>
    Pending = 0,
    Delivered = 1,
    /// <summary>Failed for good; its notification (if one was due) is already queued.</summary>
    Failed = 2,
}

/// <summary>
/// The delivery progress of one queued message: attempts so far, when the next one is due, and per
/// recipient (in envelope order) its status and the last reply that concerned it. Kept in memory by
/// the delivery engine and written to the spool as a Retry record after each attempt that leaves the
/// message queued, so QUEUE-DEFER and the per-recipient progress survive a restart.
/// Payload, little-endian: <c>u8 version 2, u8 flags (1 = held, 2 = delay report sent), u16 attempts, i64 next attempt
/// (Unix ms), u16 recipient count, then per recipient: u8 status, u16 + last reply (UTF-8)</c>.
/// Version 1 (no flags byte) is still read.
/// </summary>
internal sealed class DeliveryState
{
    private const byte Version = 2;
    private const byte HeldFlag = 1;
    private const byte DelayReportedFlag = 2;
    private const int MaxReplyBytes = 1000;

    public DeliveryState(int recipients)
    {
        Status = new RecipientStatus[recipients];
        LastReply = new string?[recipients];
    }

    public int Attempts { get; set; }

    /// <summary>Put on hold from the console: not delivered until released.</summary>
    public bool Held { get; set; }

    /// <summary>The NOTIFY=DELAY report is queued: never a second one, even after a restart.</summary>
    public bool DelayReported { get; set; }

    public long NextAttemptUnixMs { get; set; }

    public RecipientStatus[] Status { get; }

    /// <summary>The last reply or error that concerned each recipient, for the console and notifications.</summary>
    public string?[] LastReply { get; }

    public int PendingCount
    {
        get
        {
            int n = 0;
            foreach (RecipientStatus status in Status)
            {
                if (status == RecipientStatus.Pending)
                {
                    n++;
                }
            }

            return n;
        }
    }

    public byte[] Encode()
    {
        var buffer = new List<byte>(16 + (Status.Length * 32));
        Span<byte> scratch = stackalloc byte[8];
        buffer.Add(Version);
        buffer.Add((byte)((Held ? HeldFlag : 0) | (DelayReported ? DelayReportedFlag : 0)));
        BinaryPrimitives.WriteUInt16LittleEndian(scratch, (ushort)Math.Min(Attempts, ushort.MaxValue));
        buffer.AddRange(scratch[..2]);
        BinaryPrimitives.WriteInt64LittleEndian(scratch, NextAttemptUnixMs);
        buffer.AddRange(scratch);
        BinaryPrimitives.WriteUInt16LittleEndian(scratch, (ushort)Status.Length);
        buffer.AddRange(scratch[..2]);
        for (int i = 0; i < Status.Length; i++)
        {
            buffer.Add((byte)Status[i]);
            byte[] reply = Encoding.UTF8.GetBytes(LastReply[i] ?? string.Empty);
            int length = Math.Min(reply.Length, MaxReplyBytes);
            while (length > 0 && length < reply.Length && (reply[length] & 0xC0) == 0x80)
            {
                length--; // do not cut a UTF-8 sequence
            }

            BinaryPrimitives.WriteUInt16LittleEndian(scratch, (ushort)length);
            buffer.AddRange(scratch[..2]);
            buffer.AddRange(reply.AsSpan(0, length));
        }

        return [.. buffer];
    }

    /// <summary>Decodes a Retry payload for a message with <paramref name="recipients"/> recipients; false if it does not fit.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> payload, int recipients, out DeliveryState? state)
    {
        state = null;
        if (payload.Length < 13 || payload[0] is not (1 or Version))
        {
            return false;
        }

        bool held = false, delayReported = false;
        if (payload[0] == Version)
        {
            held = (payload[1] & HeldFlag) != 0;
            delayReported = (payload[1] & DelayReportedFlag) != 0;
            payload = payload[1..]; // from here on, the layout of version 1
            if (payload.Length < 13)
            {
                return false;
            }
        }

        int attempts = BinaryPrimitives.ReadUInt16LittleEndian(payload[1..]);
        long next = BinaryPrimitives.ReadInt64LittleEndian(payload[3..]);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(payload[11..]);
        if (count != recipients)
        {
            return false;
        }

        var result = new DeliveryState(count) { Attempts = attempts, NextAttemptUnixMs = next, Held = held, DelayReported = delayReported };
        ReadOnlySpan<byte> rest = payload[13..];
        for (int i = 0; i < count; i++)
        {
            if (rest.Length < 3 || rest[0] > (byte)RecipientStatus.Failed)
            {
                return false;
            }

            result.Status[i] = (RecipientStatus)rest[0];
            int length = BinaryPrimitives.ReadUInt16LittleEndian(rest[1..]);
            if (rest.Length < 3 + length)
            {
                return false;
            }

            result.LastReply[i] = length == 0 ? null : Encoding.UTF8.GetString(rest.Slice(3, length));
            rest = rest[(3 + length)..];
        }

        if (!rest.IsEmpty)
        {
            return false;
        }

        state = result;
        return true;
    }
}

/// <summary>
/// The retry schedule: the first retry waits MAIL-TRY-DELAY (d), each later one twice the one
/// before, capped at the larger of d and one hour. With the default d = 300 s: 5, 10, 20, 40,
/// 60, 60, ... minutes, until QUEUE-LIFE-TIME is spent.
/// </summary>
internal static class RetrySchedule
{
    public static readonly TimeSpan Cap = TimeSpan.FromHours(1);

    /// <summary>The wait after failed attempt number <paramref name="attempts"/> (1 = the first attempt failed).</summary>
    public static TimeSpan Delay(TimeSpan mailTryDelay, int attempts)
    {
        TimeSpan cap = mailTryDelay > Cap ? mailTryDelay : Cap;
        TimeSpan delay = mailTryDelay;
        for (int i = 1; i < attempts && delay < cap; i++)
        {
            delay += delay;
        }

        return delay < cap ? delay : cap;
    }
}
