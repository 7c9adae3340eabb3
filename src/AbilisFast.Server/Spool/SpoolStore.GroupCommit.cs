namespace AbilisFast.Server.Spool;

/// <summary>
/// Group commit: one committer thread syncs every dirty segment once per round and then completes all
/// commits whose records were appended before the round started. Commits arriving during a sync wait
/// for the next round.
/// </summary>
internal sealed partial class SpoolStore
{
    private readonly Thread _committer;
    private readonly Queue<SpoolWriter> _waiters = new();
    private readonly List<SpoolSegment> _dirty = [];
    private bool _stopping;
    private Exception? _fault;
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

    private void ThrowIfFaulted()
    {
        if (_fault is not null)
        {
            throw new IOException("spool: unusable after a failed sync", _fault);
        }
    }

    private void CommitterLoop()
    {
        var toSync = new List<SpoolSegment>();
        var group = new List<SpoolWriter>();
        while (true)
        {
            long target;
            lock (_lock)
            {
                while (_waiters.Count == 0 && !_stopping)
                {
                    Monitor.Wait(_lock);
                }

                if (_waiters.Count == 0)
                {
                    return;
                }

                target = _appendedLsn;
                foreach (SpoolSegment segment in _dirty)
                {
                    segment.Dirty = false;
                    toSync.Add(segment);
                }

                _dirty.Clear();
            }

            Exception? error = SyncSegments(toSync);
            toSync.Clear();

            lock (_lock)
            {
                _syncRounds++;
                if (error is not null)
                {
                    _fault ??= error;
                    Log($"spool: sync failed, spool is now read-only: {error.Message}");
                }

                while (_waiters.TryPeek(out SpoolWriter? writer) && (error is not null || writer.CommitLsn <= target))
                {
                    _waiters.Dequeue();
                    if (error is null)
                    {
                        PublishLocked(writer);
                    }
                    else
                    {
                        ReleasePinsLocked(writer.Segments);
                    }

                    group.Add(writer);
                }

                if (error is not null)
                {
                    SweepLocked();
                }
            }

            foreach (SpoolWriter writer in group)
            {
                writer.CompleteCommit(error);
            }

            Interlocked.Add(ref _commitsCompleted, error is null ? group.Count : 0);
            if (error is null && group.Count > 0)
            {
                CommitBatches.Observe(group.Count);
            }

            group.Clear();
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

    internal void ReleasePinsLocked(List<SpoolSegment> segments)
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
