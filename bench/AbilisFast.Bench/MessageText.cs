using System.Text;

namespace AbilisFast.Bench;

/// <summary>
/// Deterministic message text for the DATA benchmarks: a header block, then lines of 1 to 78
/// characters, about one in twelve starting with '.', CRLF line ends.
/// </summary>
internal static class MessageText
{
    private const string Words = "the quick brown fox jumps over the lazy dog while the relay stores and forwards every message it takes ";

    /// <summary>A body of exactly <paramref name="length"/> octets as stored (not dot-stuffed, no terminator).</summary>
    public static byte[] Raw(int length)
    {
        var text = new StringBuilder(length + 128);
        text.Append("Received: from client-17.mail.example.net ([192.0.2.17])\r\n")
            .Append("From: Sender <sender@client.example>\r\nTo: <user@local.test>\r\n")
            .Append("Subject: benchmark message\r\nMessage-ID: <bench.1@client.example>\r\n\r\n");
        int line = 0;
        while (text.Length < length)
        {
            line++;
            int width = 1 + (int)((uint)(line * 2654435761u) % 78);
            if (line % 12 == 0)
            {
                text.Append('.');
                width--;
            }

            int start = (line * 7) % Words.Length;
            for (int i = 0; i < width; i++)
            {
                text.Append(Words[(start + i) % Words.Length]);
            }

            text.Append("\r\n");
        }

        // Cut to size, keeping the CRLF at the end.
        text.Length = length - 2;
        text.Append("\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>The same text as a client sends it after DATA: dot-stuffed and ended with ".\r\n".</summary>
    public static byte[] Wire(byte[] raw)
    {
        var wire = new List<byte>(raw.Length + (raw.Length / 32) + 3);
        bool lineStart = true;
        foreach (byte b in raw)
        {
            if (lineStart && b == (byte)'.')
            {
                wire.Add((byte)'.');
            }

            wire.Add(b);
            lineStart = b == (byte)'\n';
        }

        wire.AddRange(".\r\n"u8);
        return [.. wire];
    }
}
