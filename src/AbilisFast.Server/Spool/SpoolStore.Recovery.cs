using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace AbilisFast.Server.Spool;

internal sealed partial class SpoolStore
{
    private static SpoolStore Recover(string directory, SpoolOptions options, out IReadOnlyList<RecoveredMessage> recovered)
    {
        List<(int Number, string Path)> files = SegmentFiles(directory);
        var opened = new List<(int Number, string Path, SafeFileHandle Handle)>(files.Count);
        try
        {
            ulong? salt = null;
            Span<byte> header = stackalloc byte[SegmentHeaderSize];
            foreach ((int number, string path) in files)
            {
                SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
                opened.Add((number, path, handle));
                _ = SpoolNative.MakePrivate(path, SpoolNative.PrivateFile); // made by an older version under the umask
                if (salt is null)
                {
                    header.Clear();
                    _ = RandomAccess.Read(handle, header, 0);
                    salt = TryReadSalt(header);
                }
            }

            if (salt is null && files.Count > 0)
            {
                options.Log?.Invoke("spool: no valid segment header found; existing segments cannot be read");
            }

            var spool = new SpoolStore(directory, options, salt ?? RandomSalt());
            try
            {
                recovered = spool.Scan(opened);
            }
            catch
            {
                foreach (SpoolSegment segment in spool._segments)
                {
                    segment.Handle.Dispose();
                }

                throw;
            }

            return spool;
        }
        catch
        {
            foreach ((_, _, SafeFileHandle handle) in opened)
            {
                handle.Dispose();
            }

            throw;
        }
    }

    /// <summary>The segment files in the spool folder (other files are left alone), by segment number.</summary>
    private static List<(int Number, string Path)> SegmentFiles(string directory)
    {
        var files = new List<(int Number, string Path)>();
        foreach (string path in System.IO.Directory.EnumerateFiles(directory))
        {
            if (SpoolSegment.TryParseFileName(Path.GetFileName(path), out int number))
            {
                files.Add((number, path));
            }
        }

        files.Sort(static (a, b) => a.Number.CompareTo(b.Number));
        return files;
    }

    /// <summary>
    /// Eight random bytes from the kernel's generator: Guid.NewGuid takes its random bits from it
    /// (/dev/urandom or getrandom) on Linux, whereas RandomNumberGenerator would load OpenSSL at every start (about
    /// 3.5 MB of RSS for a server that may never speak TLS).
    /// </summary>
    private static ulong RandomSalt()
    {
        Span<byte> bytes = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(bytes);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    /// <summary>Salt from either copy of a segment header, or null.</summary>
    private static ulong? TryReadSalt(ReadOnlySpan<byte> header)
    {
        for (int copy = 0; copy < 2; copy++)
        {
            ReadOnlySpan<byte> h = header.Slice(copy * SegmentHeaderRecordSize, SegmentHeaderRecordSize);
            if (SpoolRecord.TryRead(h, 0, Crc32C.Initial, out SpoolRecordView v)
                && v.Type == SpoolRecordType.SegmentHeader
                && v.PayloadLength == 16)
            {
                return BinaryPrimitives.ReadUInt64LittleEndian(h[SpoolRecord.HeaderSize..]);
            }
        }

        return null;
    }

    private List<RecoveredMessage> Scan(List<(int Number, string Path, SafeFileHandle Handle)> files)
    {
        var scan = new SpoolScan(this);
        byte[] buffer = [];
        SpoolSegment? last = null;
        bool lastClean = false;
        long lastTail = 0;

        foreach ((int number, string path, SafeFileHandle handle) in files)
        {
            if (AddSegment(number, path, handle) is not { } segment)
            {
                last = null;
                continue;
            }

            long length = segment.Size;
            Span<byte> data = ReadWhole(handle, (int)length, ref buffer);
            bool headerOk = length >= SegmentHeaderSize && TryReadSalt(data) == _salt;
            if (!headerOk)
            {
                if (!data.ContainsAnyExcept((byte)0))
                {
                    Log($"spool: {path} is empty (interrupted creation); removing");
                    last = null;
                    continue;
                }

                Log($"spool: {path} has a damaged header; quarantined");
                Quarantine(segment, data);
            }

            SegmentScanResult result = scan.ScanSegment(segment, data);
            if (result.Corrupt && headerOk)
            {
                Quarantine(segment, data);
            }

            // New records never go into a damaged segment: its copy in corrupt/ stays what the file
            // is, and the next start does not find it damaged in a new way and copy it again.
            last = segment;
            lastClean = headerOk && result.Clean && !result.Corrupt;
            lastTail = result.Tail;
        }

        List<RecoveredMessage> recovered = scan.Finish(_index);
        _lastId = scan.MaxId != 0 ? scan.MaxId : SpoolIds.TimeDerived();

        if (last is not null && lastClean && lastTail + SpoolRecord.HeaderSize < last.Size)
        {
            _active = last;
            _tail = lastTail;
        }

        SweepLocked();
        return recovered;
    }

    /// <summary>The whole segment file read into <paramref name="buffer"/> (grown when it is too small: one buffer for every segment).</summary>
    private static Span<byte> ReadWhole(SafeFileHandle handle, int length, ref byte[] buffer)
    {
        if (buffer.Length < length)
        {
            buffer = new byte[length];
        }

        Span<byte> data = buffer.AsSpan(0, length);
        ReadFully(handle, data);
        return data;
    }

    /// <summary>
    /// Registers one segment file found at start; null when it is too large to be one: never read, so
    /// nothing in it is recovered, moved aside whole (a rename, no copy), never deleted.
    /// </summary>
    private SpoolSegment? AddSegment(int number, string path, SafeFileHandle handle)
    {
        _highestSegment = Math.Max(_highestSegment, number);
        long length = RandomAccess.GetLength(handle);
        var segment = new SpoolSegment(number, path, handle, length);
        _segments.Add(segment);
        if (length <= int.MaxValue)
        {
            return segment;
        }

        Log($"spool: {path} is too large ({length} bytes) to be a segment; moved to corrupt/");
        MoveAside(segment);
        return null;
    }

    private static void ReadFully(SafeFileHandle handle, Span<byte> data)
    {
        long offset = 0;
        while (offset < data.Length)
        {
            int read = RandomAccess.Read(handle, data[(int)offset..], offset);
            if (read <= 0)
            {
                data[(int)offset..].Clear();
                return;
            }

            offset += read;
        }
    }

    /// <summary>
    /// Copies a damaged segment into <c>corrupt/</c> for a human to look at, once: the copy is named
    /// after the segment and a CRC-32C of its content (<c>seg-00000001.jnl.1a2b3c4d</c>), so a
    /// restart that finds the same damage again (a restart loop) finds the copy and makes none.
    /// The segment itself stays in the spool (its intact messages are delivered from it, and no new
    /// record is appended to it) until nothing in it is live. No copy is made when it would leave
    /// less free space than a new segment and the reserve need: the damaged file stays where it is,
    /// and a full disk is not made fuller by evidence.
    /// </summary>
    private void Quarantine(SpoolSegment segment, ReadOnlySpan<byte> content)
    {
        string dir = Path.Combine(_directory, CorruptFolder);
        string name = Path.GetFileName(segment.Path);
        string target = Path.Combine(dir, $"{name}.{Crc32C.Compute(content):x8}");
        try
        {
            if (File.Exists(target))
            {
                Log($"spool: {segment.Path} is already quarantined as {target}; not copied again");
                return;
            }

            long available = AvailableBytes;
            if (available - content.Length < _options.SegmentSize + _options.MinFreeBytes)
            {
                Log($"spool: {segment.Path} not copied to {dir}: {available} bytes free, and the copy would leave less than a new segment and the reserve need");
                return;
            }

            SpoolNative.CreatePrivateDirectory(dir);
            string temp = target + ".tmp";
            using (SafeFileHandle copy = SpoolNative.CreatePrivateFile(temp))
            {
                RandomAccess.Write(copy, content, 0);
                if (_options.Fsync)
                {
                    SpoolNative.FSync(copy);
                }
            }

            File.Move(temp, target, overwrite: true);
            Log($"spool: copied {segment.Path} to {target}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log($"spool: cannot quarantine {segment.Path}: {ex.Message}");
        }
    }

    /// <summary>Moves a file recovery cannot read at all into <c>corrupt/</c> (same filesystem: a rename).</summary>
    private void MoveAside(SpoolSegment segment)
    {
        string dir = Path.Combine(_directory, CorruptFolder);
        string target = Path.Combine(dir, $"{Path.GetFileName(segment.Path)}.{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
        segment.Handle.Dispose();
        _segments.Remove(segment);
        try
        {
            SpoolNative.CreatePrivateDirectory(dir);
            File.Move(segment.Path, target);
            Log($"spool: moved {segment.Path} to {target}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log($"spool: cannot move {segment.Path} aside: {ex.Message}; it stays where it is and is not read");
        }
    }

    internal const string CorruptFolder = "corrupt";
}
