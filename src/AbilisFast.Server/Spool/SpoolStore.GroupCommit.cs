namespace AbilisFast.Server.Spool;

/// <summary>
/// Group commit: one committer thread syncs every dirty segment once per round and then completes all
/// commits whose records were appended before the round started. Commits arriving during a sync wait
/// for the next round.
/// A failed sync (ENOSPC from a filesystem that allocates at writeback, EIO) fails every commit
/// waiting in that round (451 4.3.0, never a 250), and the segments of that round are marked
/// failed: after a failed fsync the kernel may have dropped their unwritten pages, so no later
/// commit with a record in one of them is published either, and new records go to a new segment.
/// What was durable before stays durable and is delivered; the spool goes on taking mail once the
/// disk takes writes again, without a restart (Postfix fails the one queue file the same way).
/// </summary>
internal sealed partial class SpoolStore
{
    private readonly Thread _committer;
    private readonly Queue<SpoolWriter> _waiters = new();
    private readonly List<SpoolSegment> _dirty = [];
    private bool _stopping;
    private long _syncCalls;
    private long _syncRounds;
    private long _commitsCompleted;

    /// <summary>fdatasync calls issued (or that would have been issued with Fsync=false).</summary>
    internal long SyncCalls => Interlocked.Read(ref _syncCalls);

    internal long SyncRounds => Interlocked.Read(ref _syncRounds);

    internal long CommitsCompleted => Interlocked.Read(ref _commitsCompleted);

    internal int PendingCommits
    {
        get
        {
            lock (_lock)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>Queues a writer whose Commit record ends at <paramref name="lsn"/>. Caller holds the lock.</summary>
    internal void EnqueueCommitLocked(SpoolWriter writer, long lsn)
    {
        writer.CommitLsn = lsn;
        _waiters.Enqueue(writer);
        if (_waiters.Count == 1)
        {
            Monitor.Pulse(_lock);
        }
    }

    private void CommitterLoop()
    {
        var toSync = new List<SpoolSegment>();
        var group = new List<(SpoolWriter Writer, Exception? Error)>();
        while (WaitForCommits(toSync, out long target))
        {
            Exception? error = SyncSegments(toSync);
            lock (_lock)
            {
                SettleLocked(error, target, toSync, group);
            }

            toSync.Clear();
            Complete(group);
            group.Clear();
        }
    }

    /// <summary>
    /// Waits until a commit waits (false once stopping with none left), then takes the dirty
    /// segments to sync and the last appended LSN the sync will cover.
    /// </summary>
    private bool WaitForCommits(List<SpoolSegment> toSync, out long target)
    {
        lock (_lock)
        {
            while (_waiters.Count == 0 && !_stopping)
            {
                Monitor.Wait(_lock);
            }

            target = _appendedLsn;
            if (_waiters.Count == 0)
            {
                return false;
            }

            foreach (SpoolSegment segment in _dirty)
            {
                segment.Dirty = false;
                toSync.Add(segment);
            }

            _dirty.Clear();
            return true;
        }
    }

    /// <summary>
    /// After a sync: the commits it covered are published (or, when it failed, or an earlier sync of
    /// their segment did, forgotten and answered 451), into <paramref name="group"/>.
    /// </summary>
    private void SettleLocked(Exception? error, long target, List<SpoolSegment> synced, List<(SpoolWriter Writer, Exception? Error)> group)
    {
        _syncRounds++;
        if (error is not null)
        {
            foreach (SpoolSegment segment in synced)
            {
                segment.SyncFailed = true;
            }

            _rollNext |= _active is { SyncFailed: true };
        }

        int failed = 0;
        while (_waiters.TryPeek(out SpoolWriter? writer) && (error is not null || writer.CommitLsn <= target))
        {
            _waiters.Dequeue();
            Exception? failure = error ?? EarlierSyncFailure(writer);
            if (failure is null)
            {
                PublishLocked(writer);
            }
            else
            {
                ForgetFailedCommitLocked(writer);
                failed++;
            }

            group.Add((writer, failure));
        }

        if (error is not null)
        {
            Log($"spool: sync failed ({error.Message}): {failed} message(s) not acknowledged (451 4.3.0); new records go to a new segment");
        }

        if (failed > 0)
        {
            SweepLocked();
        }
    }

    /// <summary>Wakes each writer of the group (outside the lock) and counts the commits that completed.</summary>
    private void Complete(List<(SpoolWriter Writer, Exception? Error)> group)
    {
        int completed = 0;
        foreach ((SpoolWriter writer, Exception? failure) in group)
        {
            writer.CompleteCommit(failure);
            completed += failure is null ? 1 : 0;
        }

        Interlocked.Add(ref _commitsCompleted, completed);
        if (completed > 0)
        {
            CommitBatches.Observe(completed);
        }
    }

    private Exception? SyncSegments(List<SpoolSegment> segments)
    {
        try
        {
            _options.BeforeSyncRound?.Invoke();
            foreach (SpoolSegment segment in segments)
            {
                Interlocked.Increment(ref _syncCalls);
                if (!_options.Fsync)
                {
                    continue;
                }

                try
                {
                    SpoolNative.FDataSync(segment.Handle);
                }
                catch (ObjectDisposedException)
                {
                    // Deleted meanwhile: it held nothing live and nothing in flight.
                }
            }

            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    /// <summary>A writer with a record in a segment whose sync failed: its bytes may not be on disk. Caller holds the lock.</summary>
    private static IOException? EarlierSyncFailure(SpoolWriter writer)
    {
        foreach (SpoolSegment segment in writer.Segments)
        {
            if (segment.SyncFailed)
            {
                return new IOException($"spool: an earlier sync of {Path.GetFileName(segment.Path)} failed");
            }
        }

        return null;
    }

    /// <summary>
    /// A commit that failed: its pins go, and a Done record (best effort, not synced) in a later
    /// segment keeps a restart from delivering the message should its records have reached the
    /// disk after all: the client was told 451 and sends it again. Caller holds the lock.
    /// </summary>
    private void ForgetFailedCommitLocked(SpoolWriter writer)
    {
        ReleasePinsLocked(writer.Segments);
        Span<byte> record = stackalloc byte[SpoolRecord.HeaderSize];
        SpoolRecord.Seal(record, SpoolRecordType.Done, writer.Id, 0, 0, _seed);
        try
        {
            (SpoolSegment done, _) = AppendLocked(record);
            foreach (SpoolSegment segment in writer.Segments)
            {
                if (!ReferenceEquals(segment, done))
                {
                    done.AddDoneTarget(segment);
                }
            }
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            // No room for it either: the message may come back after a restart, a duplicate at worst.
        }
    }

    /// <summary>The commit is durable: make the message visible. Caller holds the lock.</summary>
    private void PublishLocked(SpoolWriter writer)
    {
        var message = new SpoolMessage(writer.Id, writer.Length, writer.Fragments, writer.Segments, writer.EnvelopeAt);
        _index[writer.Id] = message;
        foreach (SpoolSegment segment in writer.Segments)
        {
            segment.Live++;
            segment.Pins--;
        }
    }

    internal static void ReleasePinsLocked(List<SpoolSegment> segments)
    {
        foreach (SpoolSegment segment in segments)
        {
            segment.Pins--;
        }
    }

    /// <summary>Releases an aborted writer's segments.</summary>
    internal void ReleaseWriter(SpoolWriter writer)
    {
        lock (_lock)
        {
            ReleasePinsLocked(writer.Segments);
            SweepLocked();
        }
    }

    private void StopCommitter()
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.PulseAll(_lock);
        }

        if (_committer.ThreadState != ThreadState.Unstarted)
        {
            _committer.Join();
        }
    }
}
