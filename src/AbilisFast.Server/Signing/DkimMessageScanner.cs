using System.Runtime.CompilerServices;
using System.Text;

namespace AbilisFast.Server.Signing;

/// <summary>
/// One pass over the outgoing text for DKIM: the header block is parsed as it streams by and only
/// the fields that may be signed are kept (raw, with their line ends); everything after the empty
/// line that ends the header goes to the body hasher. A header line that is neither a field nor a
/// continuation makes the message unsignable (a verifier could not parse it either).
/// </summary>
internal sealed class DkimMessageScanner : IDisposable
{
    /// <summary>The signed fields kept may not exceed this; a message with more is sent unsigned.</summary>
    public const int MaxSignedHeaderBytes = 256 * 1024;

    private const int MaxNameLength = 256;

    private readonly HashSet<string> _signed;
    private readonly List<(string Name, byte[] Raw)> _fields = [];
    private readonly List<byte> _name = [];
    private readonly List<byte> _field = [];
    private readonly DkimBodyHasher _body = new();
    private State _state = State.LineStart;
    private bool _collecting;
    private int _kept;

    public DkimMessageScanner(IEnumerable<string> signedNames) =>
        _signed = new HashSet<string>(signedNames, StringComparer.OrdinalIgnoreCase);

    private enum State
    {
        LineStart,
        Name,
        Value,
        BlankLine,
        Body,
        Unsignable,
    }

    /// <summary>True once the empty line after the header has gone by.</summary>
    public bool HeaderDone => _state == State.Body;

    /// <summary>Why the message cannot be signed, or null.</summary>
    public string? Problem { get; private set; }

    /// <summary>The kept fields in message order: lower-case name and raw bytes (name, colon, value, CRLF, continuations).</summary>
    public IReadOnlyList<(string Name, byte[] Raw)> Fields => _fields;

    public void Append(ReadOnlySpan<byte> text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (_state == State.Body)
            {
                _body.Append(text[i..]);
                return;
            }

            if (_state == State.Unsignable)
            {
                return;
            }

            Step(text[i]);
        }
    }

    /// <summary>The body hash (a message without an empty line has an empty body).</summary>
    public byte[] FinishBody()
    {
        if (_state is State.Value or State.Name)
        {
            EndField();
        }

        return _body.Finish();
    }

    private void Step(byte b)
    {
        switch (_state)
        {
            case State.LineStart:
                AtLineStart(b);
                break;

            case State.Name:
                InName(b);
                break;

            case State.Value:
                Keep(b);
                if (b == (byte)'\n')
                {
                    _state = State.LineStart;
                }

                break;

            case State.BlankLine:
                if (b == (byte)'\n')
                {
                    EndHeader();
                }
                else
                {
                    Fail("a header line starts with a bare CR");
                }

                break;
        }
    }

    /// <summary>The first byte of a header line: the empty line, a continuation, or a new field's name.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AtLineStart(byte b)
    {
        if (b == (byte)'\r')
        {
            _state = State.BlankLine;
        }
        else if (b == (byte)'\n')
        {
            EndHeader();
        }
        else if (b is (byte)' ' or (byte)'\t')
        {
            if (_fields.Count == 0 && _field.Count == 0 && _name.Count == 0)
            {
                Fail("the header starts with a continuation line");
                return;
            }

            Keep(b);
            _state = State.Value;
        }
        else
        {
            EndField();
            _name.Add(b);
            _state = State.Name;
        }
    }

    /// <summary>A byte of a field name; at the colon, whether the field is one to sign (then kept from its name on).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void InName(byte b)
    {
        if (b == (byte)':')
        {
            string name = Encoding.Latin1.GetString([.. _name]).TrimEnd(' ', '\t');
            _collecting = _signed.Contains(name);
            if (_collecting)
            {
                _field.AddRange(_name);
                _field.Add(b);
                _kept += _name.Count + 1;
            }

            _state = State.Value;
        }
        else if (b is (byte)'\r' or (byte)'\n' || _name.Count >= MaxNameLength || b < 0x20 && b != (byte)'\t')
        {
            Fail("a header line is not a header field (no colon)");
        }
        else
        {
            _name.Add(b);
        }
    }

    private void Keep(byte b)
    {
        if (!_collecting)
        {
            return;
        }

        _field.Add(b);
        if (++_kept > MaxSignedHeaderBytes)
        {
            Fail($"the header fields to sign exceed {MaxSignedHeaderBytes / 1024} KiB");
        }
    }

    private void EndField()
    {
        if (_collecting && _field.Count > 0)
        {
            string name = Encoding.Latin1.GetString([.. _name]).TrimEnd(' ', '\t').ToLowerInvariant();
            _fields.Add((name, [.. _field]));
        }

        _field.Clear();
        _name.Clear();
        _collecting = false;
    }

    private void EndHeader()
    {
        EndField();
        _state = State.Body;
    }

    private void Fail(string problem)
    {
        Problem ??= problem;
        _state = State.Unsignable;
        _field.Clear();
    }

    public void Dispose() => _body.Dispose();
}
