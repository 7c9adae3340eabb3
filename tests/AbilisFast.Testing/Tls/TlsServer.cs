namespace AbilisFast.Server.Tests.Tls;

/// <summary>
/// An in-process server with the self-signed certificate and SMTP AUTH, listening on loopback on
/// a plaintext port and an implicit TLS port. Users: 'bob' (mail right), 'root' (admin right).
/// </summary>
internal sealed class TlsServer : InProcessServer
{
    public const string MailUser = "bob";
    public const string MailPassword = "s3cret-pass";
    public const string AdminUser = "root";
    public const string AdminPassword = "admin-pass";

    private TlsServer(TestServerContext context, SmtpListener listener)
        : base(context, listener)
    {
    }

    public static Task<TlsServer> StartAsync(params string[] parameters) => StartAsync(bans: null, parameters);

    public static async Task<TlsServer> StartAsync(IBanList? bans, params string[] parameters)
    {
        var context = new TestServerContext(tls: true, ["LOCAL-DOMAIN:local.test", .. parameters]);
        UserStore users = UserStore.Load(context.WorkDir);
        users.Set(MailUser, UserRights.Mail, MailPassword);
        users.Set(AdminUser, UserRights.Admin, AdminPassword);
        var server = new SmtpListener(context.Context, bans);
        server.Start(new IPEndPoint(IPAddress.Loopback, 0), new IPEndPoint(IPAddress.Loopback, 0));
        await Task.Yield();
        return new TlsServer(context, server);
    }

    public static string Plain(string user, string password, string authzid = "") =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{authzid}\0{user}\0{password}"));

    public static string Base64(string text) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Connects, reads the greeting, sends EHLO, STARTTLS and the handshake, and EHLO again.</summary>
    public async Task<SmtpTestClient> ConnectTlsAsync()
    {
        SmtpTestClient client = await SmtpTestClient.ConnectAsync(Port);
        Assert.StartsWith("220 mx.test ESMTP", await client.ReadReplyAsync());
        Assert.Contains("250-STARTTLS", await client.CommandAsync("EHLO client.test"));
        Assert.Equal("220 2.0.0 Ready to start TLS", await client.CommandAsync("STARTTLS"));
        await client.StartTlsAsync();
        Assert.StartsWith("250-mx.test", await client.CommandAsync("EHLO client.test"));
        return client;
    }
}
