using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using AbilisFast.Server.Spool;

namespace AbilisFast.Fuzz;

/// <summary>One message the spool recovered: id, envelope, and the body read back through the spool.</summary>
internal sealed record RecoveredCopy(uint Id, byte[] Envelope, byte[] Body);

/// <summary>
/// Feeds bytes to the spool's recovery (segment header, record scan, resynchronisation, quarantine,
/// message rebuild) as segment file <c>seg-00000001.jnl</c> of an otherwise empty spool directory,
/// opens the spool on it, and reads back every recovered message. Recovery documents that it never
/// throws on content, so nothing may escape. The check: a message whose envelope is a
/// <c>CHECK</c> line (what <see cref="WriteCheckedMessageAsync"/> and the record-stream target
/// write) must come back with exactly the body that line names: the spool never yields a message
/// that was not written. The scratch directory is under <c>ABILISFAST_FUZZ_TMP</c> when set
/// (tools/fuzz.sh points it at /dev/shm), else the system temporary directory.
/// </summary>
internal sealed class SpoolHarness : IDisposable
{
    /// <summary>The salt of every segment the record-stream target builds.</summary>
    public const ulong RecordStreamSalt = 0x5EED_AB11_5FA5_7001;

    private readonly string _directory;

    public SpoolHarness()
    {
        string root = Environment.GetEnvironmentVariable("ABILISFAST_FUZZ_TMP") is { Length: > 0 } configured ? configured : Path.GetTempPath();
        _directory = Path.Combine(root, "abilisfast-fuzz-spool-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
    }

    /// <summary>Options small enough that a few KiB of input spans several fragments.</summary>
    public static SpoolOptions Options(Action<string>? log = null) => new()
    {
        SegmentSize = 16 * 1024,
        FragmentSize = 256,
        Fsync = false,
        MinFreeBytes = 0,
        FreeSpaceOverride = static () => long.MaxValue,
        Log = log,
    };

    /// <summary>Recovers a spool whose only segment file holds <paramref name="segment"/>; checks and returns what came back.</summary>
    public IReadOnlyList<RecoveredCopy> Recover(ReadOnlySpan<byte> segment)
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        Directory.CreateDirectory(_directory);
        File.WriteAllBytes(Path.Combine(_directory, SpoolSegment.FileName(1)), segment.ToArray());
        var copies = new List<RecoveredCopy>();
        using (SpoolStore spool = SpoolStore.Open(_directory, Options(), out IReadOnlyList<RecoveredMessage> recovered))
        {
            var seen = new HashSet<uint>();
            foreach (RecoveredMessage message in recovered)
            {
                if (!seen.Add(message.Id))
                {
                    throw new FuzzInvariantException($"message {message.IdText} recovered twice");
                }

                byte[] body = ReadBody(spool, message.Id);
                if (body.Length != message.BodyLength)
                {
                    throw new FuzzInvariantException($"message {message.IdText}: {body.Length} body bytes read, recovery said {message.BodyLength}");
                }

                if (!spool.ReadEnvelope(message.Id).AsSpan().SequenceEqual(message.Envelope))
                {
                    throw new FuzzInvariantException($"message {message.IdText}: the spool's envelope is not the recovered one");
                }

                CheckBody(message, body);
                copies.Add(new RecoveredCopy(message.Id, message.Envelope, body));
            }
        }

        return copies;
    }

    /// <summary>
    /// The record-stream target: <paramref name="program"/> is turned into correctly sealed records
    /// (see <see cref="RecordStream"/>) behind a valid segment header, then recovered. This reaches
    /// the scan's message rebuild, which random bytes never do (they cannot forge the salted CRC).
    /// </summary>
    public IReadOnlyList<RecoveredCopy> RecoverRecordStream(ReadOnlySpan<byte> program) =>
        Recover(RecordStream.Build(program, RecordStreamSalt));

    /// <summary>The envelope line that names a body: <c>CHECK crc32c length</c>.</summary>
    public static byte[] CheckEnvelope(ReadOnlySpan<byte> body) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"CHECK {~Crc32C.Update(Crc32C.Initial, body):X8} {body.Length}\n"));

    /// <summary>Stores <paramref name="body"/> through the real spool writer in chunks, with its CHECK envelope.</summary>
    public static async Task<uint> WriteCheckedMessageAsync(SpoolStore spool, byte[] body, int chunk)
    {
        uint id = spool.NextId();
        using SpoolWriter writer = spool.BeginMessage(id);
        for (int i = 0; i < body.Length; i += chunk)
        {
            writer.Write(body.AsSpan(i, Math.Min(chunk, body.Length - i)));
        }

        await writer.CommitAsync(CheckEnvelope(body)).ConfigureAwait(false);
        return id;
    }

    private static void CheckBody(RecoveredMessage message, byte[] body)
    {
        if (!message.Envelope.AsSpan().StartsWith("CHECK "u8))
        {
            return;
        }

        if (!message.Envelope.AsSpan().SequenceEqual(CheckEnvelope(body)))
        {
            throw new FuzzInvariantException(
                $"message {message.IdText}: recovered body ({body.Length} bytes) is not the one written ({Encoding.ASCII.GetString(message.Envelope).TrimEnd()})");
        }
    }

    private static byte[] ReadBody(SpoolStore spool, uint id)
    {
        using Stream stream = spool.OpenBody(id);
        using var copy = new MemoryStream();
        stream.CopyTo(copy, 333);
        return copy.ToArray();
    }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(_directory))
            {
                Directory.Delete(_directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
