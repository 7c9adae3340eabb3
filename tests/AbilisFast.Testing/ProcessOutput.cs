namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// The lines a child process writes (stdout, stderr or both), gathered from the threads that raise
/// <see cref="Process.OutputDataReceived"/> and <see cref="Process.ErrorDataReceived"/>, and read as
/// one text.
/// </summary>
internal sealed class ProcessOutput
{
    private readonly StringBuilder _text = new();

    /// <summary>Adds one line; null (the end of the stream) adds nothing.</summary>
    public void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_text)
        {
            _text.AppendLine(line);
        }
    }

    /// <summary>Every line so far, each with its line end.</summary>
    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }
}
