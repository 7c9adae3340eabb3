using System.Buffers.Text;

namespace AbilisFast.Load;

/// <summary>
/// The --accepted-ids file: one line per message the server answered 2xx after the final dot, its
/// Message-ID without the angle brackets (<c>N.RUN@DOMAIN</c>), so a test or a soak can tell exactly
/// which messages were acknowledged. Written under a lock through one buffered stream; nothing is
/// allocated per line. Only a 2xx read from the server makes a line: a message whose reply was lost
/// (a dropped connection) is never listed.
/// </summary>
internal sealed class AcceptedIdLog : IDisposable
{
    private readonly FileStream _file;
    private readonly object _lock = new();

    public AcceptedIdLog(string path) =>
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024);

    /// <summary>Writes "NUMBER" + <paramref name="end"/> (".RUN@DOMAIN\n").</summary>
    public void Record(long number, ReadOnlySpan<byte> end)
    {
        Span<byte> line = stackalloc byte[20 + end.Length];
        Utf8Formatter.TryFormat(number, line, out int n);
        end.CopyTo(line[n..]);
        lock (_lock)
        {
            _file.Write(line[..(n + end.Length)]);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _file.Dispose();
        }
    }
}
