namespace AbilisFast.Server.Diagnostics;

/// <summary>
/// LOG:YES: the session-log lines also go to <c>DIR/smtp.log</c>, written in batches by this one
/// background writer, which follows the ring itself (<see cref="SessionLog.CopySince"/>): sessions
/// pay nothing more for the file. Every <see cref="PollInterval"/> it copies the new lines into a
/// preallocated buffer and writes them when <see cref="FlushThreshold"/> bytes are pending or
/// <see cref="FlushInterval"/> has passed since the last write: no fsync, so flash sees a few
/// large writes rather than one per line. Before the file would grow past LOG-MAX-SIZE it is
/// rotated (smtp.log → smtp.log.1 → …), keeping LOG-FILES files in all. An idle server writes
/// nothing. LOG is read on every poll, so <c>s p smtp LOG:YES</c> takes effect at once (from the
/// last poll before it on); lines written while LOG was NO before that never reach the file.
/// </summary>
internal sealed class SessionLogFile : IAsyncDisposable
{
    public const string FileName = "smtp.log";

    /// <summary>How often the ring is read: well within the time a busy server takes to fill it.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest a line waits in memory before it is written.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    /// <summary>Pending bytes that are written at once, without waiting for <see cref="FlushInterval"/>.</summary>
    public const int FlushThreshold = 64 * 1024;

    private const int PendingCapacity = FlushThreshold + SessionLog.BufferLength + 1024;

    private static ReadOnlySpan<byte> LostLine => "-- session log lines lost here: the file writer fell a whole ring behind\n"u8;

    private readonly SessionLog _log;
    private readonly string _directory;
    private readonly Func<SmtpSettings> _settings;
    private readonly Action<string> _report;
    private readonly TimeProvider _time;
    private readonly byte[] _pending = new byte[PendingCapacity];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private int _pendingLength;
    private long _cursor;
    private long _lastWrite;
    private bool _following;
    private bool _failing;
    private bool _checkedModes;
    private FileStream? _file;
    private Task? _loop;
    private int _disposed;

    /// <param name="log">The ring to follow.</param>
    /// <param name="directory">Where smtp.log and its rotations live (created on the first write).</param>
    /// <param name="settings">The settings in force (LOG, LOG-MAX-SIZE, LOG-FILES), read on every poll.</param>
    /// <param name="report">Where a write failure is reported, once per failure (standard error).</param>
    /// <param name="time">The clock for <see cref="FlushInterval"/>.</param>
    public SessionLogFile(SessionLog log, string directory, Func<SmtpSettings> settings, Action<string> report, TimeProvider? time = null)
    {
        _log = log;
        _directory = directory;
        _settings = settings;
        _report = report;
        _time = time ?? TimeProvider.System;
        _lastWrite = _time.GetTimestamp();
    }

    public string FilePath => Path.Combine(_directory, FileName);

    /// <summary>Starts the background writer.</summary>
    public void Start()
    {
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>
    /// One round of the writer: reads new lines when LOG is YES and writes them if the batch is
    /// due (or at once when <paramref name="force"/>). Tests call it to step the writer.
    /// </summary>
    internal void Poll(bool force = false)
    {
        lock (_lock)
        {
            SmtpSettings settings = _settings();
            if (!settings.Log)
            {
                // Lines written while LOG is NO are not for the file; what was read before goes out.
                // The cursor keeps up with the ring, so that a switch to YES starts at most one poll
                // before the switch: a line written just after it is never missed.
                Write(settings);
                CloseFile();
                _cursor = _log.Head;
                _following = true;
                return;
            }

            bool first = false;
            if (!_following)
            {
                // Started with LOG:YES: the file takes the ring from its first line (the start itself).
                first = true;
                _cursor = 0;
                _following = true;
            }

            while (true)
            {
                int copied = _log.CopySince(ref _cursor, _pending.AsSpan(_pendingLength), out bool lost);
                lost &= !first;
                first = false;
                if (lost && _pendingLength + LostLine.Length <= _pending.Length)
                {
                    // Marks the gap where it is; the lines copied just now follow it.
                    _pending.AsSpan(_pendingLength, copied).CopyTo(_pending.AsSpan(_pendingLength + LostLine.Length));
                    LostLine.CopyTo(_pending.AsSpan(_pendingLength));
                    _pendingLength += LostLine.Length;
                }

                _pendingLength += copied;
                if (_pendingLength < FlushThreshold && copied > 0 && _cursor < _log.Head)
                {
                    continue; // more published since: take it in this round
                }

                break;
            }

            if (force || _pendingLength >= FlushThreshold
                || (_pendingLength > 0 && _time.GetElapsedTime(_lastWrite) >= FlushInterval))
            {
                Write(settings);
            }
        }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(PollInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                Poll();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Writes the pending lines, rotating at line boundaries so no file passes the cap.</summary>
    private void Write(SmtpSettings settings)
    {
        _lastWrite = _time.GetTimestamp();
        if (_pendingLength == 0)
        {
            return;
        }

        long cap = settings.LogMaxSizeKiB * 1024L;
        try
        {
            int done = 0;
            while (done < _pendingLength)
            {
                FileStream file = OpenFile();
                ReadOnlySpan<byte> rest = _pending.AsSpan(done, _pendingLength - done);
                long room = cap - file.Length;
                int take = rest.Length <= room ? rest.Length : (room > 0 ? rest[..(int)room].LastIndexOf((byte)'\n') + 1 : 0);
                if (take == 0)
                {
                    if (file.Length > 0)
                    {
                        Rotate(settings.LogFiles);
                        continue;
                    }

                    take = rest.IndexOf((byte)'\n') + 1; // one line longer than the cap: alone in its file
                }

                file.Write(rest[..take]);
                done += take;
            }

            // Into the page cache, not onto the medium: the kernel writes it back in its own time.
            _file?.Flush(flushToDisk: false);
            if (_failing)
            {
                _failing = false;
                _report($"log: writing {FilePath} again");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CloseFile();
            if (!_failing)
            {
                _failing = true;
                _report($"log: cannot write {FilePath} ({e.Message}); the lines stay in the session log only until it works again");
            }
        }
        finally
        {
            _pendingLength = 0;
        }
    }

    private FileStream OpenFile()
    {
        if (_file is null)
        {
            // 0700 and 0600 whatever the umask: the log names senders, recipients and client addresses.
            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 0 };
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(_directory);
            }
            else
            {
                Directory.CreateDirectory(_directory, PrivateFolder);
                options.UnixCreateMode = PrivateFileWriter.Mode;
            }

            _file = new FileStream(FilePath, options);
            if (!_checkedModes && !OperatingSystem.IsWindows())
            {
                // Made by an older version, or by hand: the group and others lose their bits once.
                _checkedModes = true;
                TightenMode(_directory, PrivateFolder);
                TightenMode(FilePath, PrivateFileWriter.Mode);
            }
        }

        return _file;
    }

    private const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void TightenMode(string path, UnixFileMode mode)
    {
        const UnixFileMode OwnerBits = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        try
        {
            if ((File.GetUnixFileMode(path) & ~OwnerBits) != 0)
            {
                File.SetUnixFileMode(path, mode);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another owner's file: written as it is.
        }
    }

    /// <summary>smtp.log.(N-2) → smtp.log.(N-1), …, smtp.log → smtp.log.1; the oldest falls off.</summary>
    private void Rotate(int files)
    {
        CloseFile();
        string current = FilePath;
        if (files <= 1)
        {
            File.Delete(current);
            return;
        }

        // The oldest falls off, and so do any beyond a LOG-FILES that was lowered.
        for (int k = files - 1; File.Exists($"{current}.{k}"); k++)
        {
            File.Delete($"{current}.{k}");
        }

        for (int i = files - 2; i >= 1; i--)
        {
            string from = $"{current}.{i}";
            if (File.Exists(from))
            {
                File.Move(from, $"{current}.{i + 1}", overwrite: true);
            }
        }

        File.Move(current, current + ".1", overwrite: true);
    }

    private void CloseFile()
    {
        _file?.Dispose();
        _file = null;
    }

    /// <summary>Stops the writer and writes what is pending (LOG permitting).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        if (_loop is not null)
        {
            Poll(force: true);
        }

        lock (_lock)
        {
            CloseFile();
        }

        _stop.Dispose();
    }
}
