using System.Globalization;
using System.Text;

namespace AbilisFast.Load;

/// <summary>
/// Every byte the sessions send, formatted once at start-up and shared read-only: the commands,
/// the pipelined MAIL/RCPT/DATA group, the fixed header text and the body filler. Per message only
/// the number, the date (cached per second by the session) and the body length are written.
/// </summary>
internal sealed class LoadScript
{
    /// <summary>One body line: 78 characters, then CRLF. Never starts with a dot.</summary>
    public const int LineLength = 80;

    public LoadScript(LoadOptions o)
    {
        Ehlo = Ascii($"EHLO {o.Helo}\r\n");
        Helo = Ascii($"HELO {o.Helo}\r\n");
        Mail = Ascii($"MAIL FROM:<{o.From}>\r\n");
        Rcpts = new byte[o.Rcpts][];
        for (int i = 0; i < o.Rcpts; i++)
        {
            Rcpts[i] = Ascii($"RCPT TO:<{Recipient(o.To, o.Rcpts, i)}>\r\n");
        }

        Group = [.. Mail, .. Rcpts.SelectMany(r => r), .. Data];
        string to = Recipient(o.To, o.Rcpts, 0) + (o.Rcpts > 1 ? $" (and {o.Rcpts - 1} more)" : string.Empty);
        HeaderStart = Ascii($"From: <{o.From}>\r\nTo: <{to}>\r\nSubject: load ");
        string domain = o.Helo.Contains('.', StringComparison.Ordinal) ? o.Helo : "load.test";
        string run = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 6));
        MessageIdEnd = Ascii($".{run}@{domain}>\r\n\r\n");
        AcceptedIdEnd = Ascii($".{run}@{domain}\n");
        Size = o.Size;

        // Enough whole lines to fill one send buffer from any phase (see LoadSession.AppendBody).
        int lines = (Math.Min(o.Size, LoadSession.MaxBuffer) / LineLength) + 2;
        Filler = new byte[lines * LineLength];
        const string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for (int i = 0; i < Filler.Length; i++)
        {
            int col = i % LineLength;
            Filler[i] = col switch
            {
                LineLength - 2 => (byte)'\r',
                LineLength - 1 => (byte)'\n',
                _ => (byte)letters[col % letters.Length],
            };
        }
    }

    public byte[] Ehlo { get; }
    public byte[] Helo { get; }
    public byte[] Mail { get; }
    public byte[][] Rcpts { get; }
    public byte[] Data { get; } = "DATA\r\n"u8.ToArray();
    public byte[] Rset { get; } = "RSET\r\n"u8.ToArray();
    public byte[] Quit { get; } = "QUIT\r\n"u8.ToArray();
    public byte[] EndOfData { get; } = ".\r\n"u8.ToArray();

    /// <summary>MAIL, every RCPT and DATA in one piece, for a PIPELINING server.</summary>
    public byte[] Group { get; }

    /// <summary>"From: ...\r\nTo: ...\r\nSubject: load " (the number follows).</summary>
    public byte[] HeaderStart { get; }

    /// <summary>The rest of the Message-ID after the number, and the empty line ending the header.</summary>
    public byte[] MessageIdEnd { get; }

    /// <summary>The rest of the Message-ID after the number, bare, and a line end (the --accepted-ids line).</summary>
    public byte[] AcceptedIdEnd { get; }

    public static ReadOnlySpan<byte> DateLabel => "\r\nDate: "u8;
    public static ReadOnlySpan<byte> MessageIdLabel => "\r\nMessage-ID: <"u8;

    /// <summary>Lines of 78 filler characters and CRLF.</summary>
    public byte[] Filler { get; }

    /// <summary>The message size asked for (header included, final dot excluded).</summary>
    public int Size { get; }

    /// <summary>The longest header a message can have (number and date at their widest).</summary>
    public int MaxHeader => HeaderStart.Length + 20 + DateLabel.Length + 40 + MessageIdLabel.Length + 20 + MessageIdEnd.Length;

    /// <summary>--to as given for one recipient; r1@.., r2@.. for several.</summary>
    public static string Recipient(string to, int count, int index)
    {
        if (count == 1)
        {
            return to;
        }

        int at = to.LastIndexOf('@');
        string n = (index + 1).ToString(CultureInfo.InvariantCulture);
        return at < 0 ? to + n : string.Concat(to.AsSpan(0, at), n, to.AsSpan(at));
    }

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
}
