using System.Text;

namespace AbilisFast.Server.Submission;

/// <summary>
/// The addresses of an RFC 5322 address-list field (To, Cc, Bcc): mailboxes with or without a
/// display name (<c>"Doe, J." &lt;j@x&gt;</c>, <c>j@x (J. Doe)</c>), several per field separated by commas,
/// groups (<c>team: a@x, b@x;</c>, <c>undisclosed-recipients:;</c>), comments, quoted strings, domain
/// literals and the obsolete source route in angle brackets (<c>&lt;@relay:j@x&gt;</c>, the route dropped).
/// </summary>
internal static class AddressList
{
    public static List<string> Parse(string value)
    {
        var state = new Parser();
        for (int i = 0; i < value.Length; i++)
        {
            i = state.Take(value, i);
        }

        state.Flush();
        return state.Addresses;
    }

    private sealed class Parser
    {
        private readonly StringBuilder _current = new();
        private readonly StringBuilder _angle = new();
        private string? _angleAddress;
        private bool _inGroup;

        public List<string> Addresses { get; } = [];

        /// <summary>Takes the character at <paramref name="i"/>; returns the index of the last character used.</summary>
        public int Take(string value, int i)
        {
            char c = value[i];
            switch (c)
            {
                case '"':
                    return Quoted(value, i, '"', _current);
                case '[':
                    return Quoted(value, i, ']', _current);
                case '(':
                    return Comment(value, i);
                case '<':
                    _angle.Clear();
                    int end = i + 1;
                    while (end < value.Length && value[end] != '>')
                    {
                        end = value[end] is '"' or '[' ? Quoted(value, end, value[end] == '"' ? '"' : ']', _angle) + 1 : Append(_angle, value[end], end);
                    }

                    _angleAddress = _angle.ToString();
                    return end;
                case ':' when !_inGroup && _angleAddress is null:
                    _current.Clear(); // a group's display name
                    _inGroup = true;
                    return i;
                case ';' when _inGroup:
                    Flush();
                    _inGroup = false;
                    return i;
                case ',':
                    Flush();
                    return i;
                default:
                    _current.Append(c);
                    return i;
            }
        }

        public void Flush()
        {
            string address = (_angleAddress is { } angle ? WithoutRoute(angle) : _current.ToString()).Trim();

            if (address.Length > 0)
            {
                Addresses.Add(address);
            }

            _current.Clear();
            _angleAddress = null;
        }

        private static int Append(StringBuilder to, char c, int i)
        {
            to.Append(c);
            return i + 1;
        }

        /// <summary>A quoted string or a domain literal, kept as written; returns the index of its closing character.</summary>
        private static int Quoted(string value, int i, char close, StringBuilder to)
        {
            to.Append(value[i]);
            for (int k = i + 1; k < value.Length; k++)
            {
                to.Append(value[k]);
                if (value[k] == '\\' && k + 1 < value.Length)
                {
                    to.Append(value[++k]);
                }
                else if (value[k] == close)
                {
                    return k;
                }
            }

            return value.Length - 1;
        }

        /// <summary>A comment, nested or not: dropped; returns the index of its closing parenthesis.</summary>
        private static int Comment(string value, int i)
        {
            int depth = 0;
            for (int k = i; k < value.Length; k++)
            {
                if (value[k] == '\\')
                {
                    k++;
                }
                else if (value[k] == '(')
                {
                    depth++;
                }
                else if (value[k] == ')' && --depth == 0)
                {
                    return k;
                }
            }

            return value.Length - 1;
        }

        /// <summary><c>@a,@b:user@domain</c> is <c>user@domain</c>.</summary>
        private static string WithoutRoute(string address)
        {
            address = address.Trim();
            int colon = address.IndexOf(':', StringComparison.Ordinal);
            return address.StartsWith('@') && colon > 0 ? address[(colon + 1)..] : address;
        }
    }
}
