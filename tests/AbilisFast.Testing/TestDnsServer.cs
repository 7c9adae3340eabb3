namespace AbilisFast.Server.Tests.Support;

/// <summary>
/// A tiny UDP DNS responder on 127.0.0.1 (port 0) for the answers dnsmasq will not give on demand:
/// SERVFAIL, REFUSED, silence (a timeout), or chosen records. The responder function gets the
/// question (name without trailing dot, lower case; type) and returns the reply, or null to drop
/// the query. Dispose stops it.
/// </summary>
internal sealed class TestDnsServer : IDisposable
{
    public const ushort TypeA = 1;
    public const ushort TypeMx = 15;
    public const ushort TypeAaaa = 28;

    private readonly Socket _socket;
    private readonly Func<string, ushort, TestDnsReply?> _respond;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _queries;

    public TestDnsServer(Func<string, ushort, TestDnsReply?> respond)
    {
        _respond = respond;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = Task.Run(RunAsync);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Queries received so far (dropped ones included).</summary>
    public int Queries => Volatile.Read(ref _queries);

    private async Task RunAsync()
    {
        byte[] buffer = new byte[4096];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Interlocked.Increment(ref _queries);
            byte[]? reply = Answer(buffer.AsSpan(0, received.ReceivedBytes));
            if (reply is not null)
            {
                try
                {
                    await _socket.SendToAsync(reply, SocketFlags.None, received.RemoteEndPoint, _stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>The response message for one query, or null (malformed query or dropped).</summary>
    private byte[]? Answer(ReadOnlySpan<byte> query)
    {
        if (query.Length < 12 || BinaryPrimitives.ReadUInt16BigEndian(query[4..]) != 1)
        {
            return null;
        }

        // The question: labels up to the root label, then type and class.
        var name = new StringBuilder();
        int at = 12;
        while (at < query.Length && query[at] != 0)
        {
            int length = query[at];
            if (length > 63 || at + 1 + length > query.Length)
            {
                return null;
            }

            if (name.Length > 0)
            {
                name.Append('.');
            }

            name.Append(Encoding.ASCII.GetString(query.Slice(at + 1, length)).ToLowerInvariant());
            at += 1 + length;
        }

        int questionEnd = at + 5;
        if (questionEnd > query.Length)
        {
            return null;
        }

        ushort type = BinaryPrimitives.ReadUInt16BigEndian(query[(at + 1)..]);
        TestDnsReply? reply = _respond(name.ToString(), type);
        if (reply is null)
        {
            return null;
        }

        using var message = new MemoryStream();
        Span<byte> header = stackalloc byte[12];
        query[..2].CopyTo(header); // id
        // QR=1, opcode 0, AA=1, RD copied, RA=1, rcode.
        header[2] = (byte)(0x84 | (query[2] & 0x01));
        header[3] = (byte)(0x80 | (reply.ResponseCode & 0x0F));
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(header[6..], (ushort)reply.Answers.Count);
        BinaryPrimitives.WriteUInt16BigEndian(header[8..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], 0);
        message.Write(header);
        message.Write(query[12..questionEnd]);
        Span<byte> fixedPart = stackalloc byte[10];
        foreach (TestDnsRecord record in reply.Answers)
        {
            WriteName(message, record.Name);
            BinaryPrimitives.WriteUInt16BigEndian(fixedPart, record.Type);
            BinaryPrimitives.WriteUInt16BigEndian(fixedPart[2..], 1); // IN
            BinaryPrimitives.WriteUInt32BigEndian(fixedPart[4..], 60);
            BinaryPrimitives.WriteUInt16BigEndian(fixedPart[8..], (ushort)record.Data.Length);
            message.Write(fixedPart);
            message.Write(record.Data);
        }

        return message.ToArray();
    }

    internal static void WriteName(Stream to, string name)
    {
        foreach (string label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            byte[] bytes = Encoding.ASCII.GetBytes(label);
            to.WriteByte((byte)bytes.Length);
            to.Write(bytes);
        }

        to.WriteByte(0);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }
}

/// <summary>A response: its RCODE (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED) and answer records.</summary>
internal sealed record TestDnsReply(byte ResponseCode, IReadOnlyList<TestDnsRecord> Answers)
{
    public static TestDnsReply ServFail { get; } = new(2, []);
    public static TestDnsReply NxDomain { get; } = new(3, []);
    public static TestDnsReply Refused { get; } = new(5, []);
    public static TestDnsReply NoData { get; } = new(0, []);

    public static TestDnsReply With(params TestDnsRecord[] answers) => new(0, answers);
}

/// <summary>One answer record: owner name, type, RDATA.</summary>
internal sealed record TestDnsRecord(string Name, ushort Type, byte[] Data)
{
    public static TestDnsRecord A(string name, string address) => new(name, TestDnsServer.TypeA, IPAddress.Parse(address).GetAddressBytes());

    public static TestDnsRecord Aaaa(string name, string address) => new(name, TestDnsServer.TypeAaaa, IPAddress.Parse(address).GetAddressBytes());

    /// <summary>MX; <paramref name="exchange"/> "." is the null MX of RFC 7505.</summary>
    public static TestDnsRecord Mx(string name, ushort preference, string exchange)
    {
        using var data = new MemoryStream();
        data.WriteByte((byte)(preference >> 8));
        data.WriteByte((byte)preference);
        TestDnsServer.WriteName(data, exchange);
        return new TestDnsRecord(name, TestDnsServer.TypeMx, data.ToArray());
    }
}
