using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace AbilisFast.Server.Spool;

internal sealed partial class SpoolStore
{
    /// <summary>Two copies of the segment header record (so one damaged copy does not lose the salt).</summary>
    internal const int SegmentHeaderRecordSize = SpoolRecord.HeaderSize + 16;
    internal const int SegmentHeaderSize = 2 * SegmentHeaderRecordSize;

    /// <summary>Total bytes appended since open; the committer's durability watermark is in the same unit.</summary>
    private long _appendedLsn;

    /// <summary>Highest segment number seen or created; new segments always get a higher one so file order is log order.</summary>
    private int _highestSegment;

    /// <summary>
    /// Appends one or more complete records with a single pwrite at the tail of the active segment.
    /// Caller holds <see cref="_lock"/>. On failure nothing is accounted, and the next append starts a
    /// fresh segment so that the half-written bytes stay a torn tail that recovery ignores.
    /// </summary>
    private (SpoolSegment Segment, long Offset) AppendLocked(ReadOnlySpan<byte> records)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_active is null || _rollNext || _active.SyncFailed || _tail + records.Length > _active.Size)
        {
            RollLocked(records.Length);
        }

        SpoolSegment segment = _active!;
        long offset = _tail;
        try
        {
            int partial = _options.WriteFault?.Invoke(records.Length) ?? -1;
            if (partial >= 0)
            {
                RandomAccess.Write(segment.Handle, records[..Math.Min(partial, records.Length)], offset);
                throw new IOException("spool: injected write failure");
            }

            RandomAccess.Write(segment.Handle, records, offset);
        }
        catch
        {
            _rollNext = true;
            throw;
        }

        _tail = offset + records.Length;
        _appendedLsn += records.Length;
        if (!segment.Dirty)
        {
            segment.Dirty = true;
            _dirty.Add(segment);
        }

        return (segment, offset);
    }

    /// <summary>Appends a writer's records; a commit is queued for the group commit in the same critical section.</summary>
    internal void AppendForWriter(SpoolWriter writer, ReadOnlySpan<byte> records, bool commit)
    {
        lock (_lock)
        {
            (SpoolSegment segment, long offset) = AppendLocked(records);
            writer.OnAppendedLocked(segment, offset);
            if (commit)
            {
                EnqueueCommitLocked(writer, _appendedLsn);
            }
        }
    }

    private void RollLocked(int needed)
    {
        int number = _highestSegment + 1;
        if (needed > _options.SegmentSize - SegmentHeaderSize)
        {
            throw new ArgumentException($"spool: record of {needed} bytes does not fit in a segment.");
        }

        long available = AvailableBytes;
        NoteFreeSpace(available, _options.SegmentSize + _options.MinFreeBytes);
        if (available < _options.SegmentSize + _options.MinFreeBytes)
        {
            throw new IOException($"spool: not enough free space for a new segment ({available} bytes available).");
        }

        SpoolSegment segment = CreateSegment(number);
        _highestSegment = number;
        _segments.Add(segment);
        _active = segment;
        _tail = SegmentHeaderSize;
        _rollNext = false;
        SweepLocked();
    }

    private SpoolSegment CreateSegment(int number)
    {
        string path = Path.Combine(_directory, SpoolSegment.FileName(number));
        long size = _options.SegmentSize;
        SafeFileHandle handle = SpoolNative.CreatePrivateFile(path);
        try
        {
            if (!SpoolNative.TryFAllocate(handle, size, out int errno))
            {
                if (errno != SpoolNative.NotSupported)
                {
                    // ENOSPC (the disk filled up since the free-space check) or worse: no segment,
                    // rather than a sparse one whose writes would fail later.
                    throw new IOException($"spool: cannot allocate a new segment of {size} bytes: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}", errno);
                }

                RandomAccess.SetLength(handle, size); // a filesystem without fallocate: sparse, size still fixed up front
            }

            Span<byte> header = stackalloc byte[SegmentHeaderSize];
            header.Clear();
            Span<byte> first = header[..SegmentHeaderRecordSize];
            BinaryPrimitives.WriteUInt64LittleEndian(first[SpoolRecord.HeaderSize..], _salt);
            BinaryPrimitives.WriteInt64LittleEndian(first[(SpoolRecord.HeaderSize + 8)..], DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            SpoolRecord.Seal(first, SpoolRecordType.SegmentHeader, (uint)number, 1, 16, Crc32C.Initial);
            first.CopyTo(header[SegmentHeaderRecordSize..]);
            RandomAccess.Write(handle, header, 0);
            if (_options.Fsync)
            {
                SpoolNative.FSync(handle);
                SpoolNative.FSyncDirectory(_directory);
            }
        }
        catch
        {
            handle.Dispose();
            TryDelete(path);
            throw;
        }

        return new SpoolSegment(number, path, handle, size);
    }

    /// <summary>Deletes non-active segments with nothing live, nothing pinned and no Done records still needed.</summary>
    private void SweepLocked()
    {
        if (_disposed)
        {
            return;
        }

        for (int i = 0; i < _segments.Count; i++)
        {
            SpoolSegment segment = _segments[i];
            if (ReferenceEquals(segment, _active) || segment.Live > 0 || segment.Pins > 0 || !segment.DoneTargetsGone())
            {
                continue;
            }

            segment.Deleted = true;
            segment.Handle.Dispose();
            TryDelete(segment.Path);
            _segments.RemoveAt(i);
            i--;
        }
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log($"spool: cannot delete {path}: {ex.Message}");
        }
    }
}
