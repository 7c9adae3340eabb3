using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace AbilisFast.Server.Spool;

internal sealed partial class SpoolStore
{
    private static SpoolStore Recover(string directory, SpoolOptions options, out IReadOnlyList<RecoveredMessage> recovered)
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

        var opened = new List<(int Number, string Path, SafeFileHandle Handle)>(files.Count);
        try
        {
            ulong? salt = null;
            Span<byte> header = stackalloc byte[SegmentHeaderSize];
            foreach ((int number, string path) in files)
            {
                SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
                opened.Add((number, path, handle));
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

    private static ulong RandomSalt()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
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
            _highestSegment = Math.Max(_highestSegment, number);
            long length = RandomAccess.GetLength(handle);
            var segment = new SpoolSegment(number, path, handle, length);
            _segments.Add(segment);
            if (length > int.MaxValue)
            {
                Log($"spool: {path} is too large ({length} bytes) to be a segment; quarantined");
                Quarantine(segment);
                segment.Live++; // never delete what we could not read
                last = null;
                continue;
            }

            if (buffer.Length < length)
            {
                buffer = new byte[length];
            }

            Span<byte> data = buffer.AsSpan(0, (int)length);
            ReadFully(handle, data);

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
                Quarantine(segment);
            }

            SegmentScanResult result = scan.ScanSegment(segment, data);
            if (result.Corrupt && headerOk)
            {
                Quarantine(segment);
            }

            last = segment;
            lastClean = headerOk && result.Clean;
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

    private void Quarantine(SpoolSegment segment)
    {
        try
        {
            string dir = Path.Combine(_directory, "corrupt");
            System.IO.Directory.CreateDirectory(dir);
            string target = Path.Combine(dir, $"{Path.GetFileName(segment.Path)}.{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
            File.Copy(segment.Path, target, overwrite: true);
            Log($"spool: copied {segment.Path} to {target}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log($"spool: cannot quarantine {segment.Path}: {ex.Message}");
        }
    }
}
