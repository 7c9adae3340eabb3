namespace AbilisFast.Server.Tests.Submission;

/// <summary>
/// An in-process server on loopback with the plaintext port, the implicit TLS port and the
/// submission port. Users: 'bob' and 'carol' (mail right), 'root' (admin right); LOCAL-DOMAIN local.test.
/// </summary>
internal sealed class SubmissionServer : InProcessServer
{
    public const string Bob = TlsServer.MailUser;
    public const string BobPassword = TlsServer.MailPassword;
    public const string Carol = "carol";
    public const string CarolPassword = "carol-pass-1";

    private SubmissionServer(TestServerContext context, SmtpListener listener)
        : base(context, listener)
    {
    }

    public int SubmissionPort => Listener.SubmissionLocalEndPoint!.Port;

    public static async Task<SubmissionServer> StartAsync(IBanList? bans, params string[] parameters)
    {
        // The recipient table as a server has it: WDIR/aliases names 'team' (bob and carol) and 'sales' (bob).
        var context = TestServerContext.WithRecipients(
            workDir => File.WriteAllText(Path.Combine(workDir, "aliases"), "team: bob, carol\nsales: bob\n"),
            tls: true,
            ["LOCAL-DOMAIN:local.test,second.test", .. parameters]);
        UserStore users = UserStore.Load(context.WorkDir);
        users.Set(Bob, UserRights.Mail, BobPassword);
        users.Set(Carol, UserRights.Mail, CarolPassword);
        users.Set(TlsServer.AdminUser, UserRights.Admin, TlsServer.AdminPassword);
        var server = new SmtpListener(context.Context, bans);
        var loopback = new IPEndPoint(IPAddress.Loopback, 0);
        server.Start(loopback, loopback, loopback);
        await Task.Yield();
        return new SubmissionServer(context, server);
    }

    public static Task<SubmissionServer> StartAsync(params string[] parameters) => StartAsync(bans: null, parameters);

    /// <summary>Connects to the submission port and reads the greeting.</summary>
    public async Task<SmtpTestClient> ConnectAsync()
    {
        SmtpTestClient client = await SmtpTestClient.ConnectAsync(SubmissionPort);
        Assert.StartsWith("220 mx.test ESMTP", await client.ReadReplyAsync());
        return client;
    }

    /// <summary>Submission port: greeting, EHLO, STARTTLS, handshake, EHLO again.</summary>
    public async Task<SmtpTestClient> ConnectTlsAsync()
    {
        SmtpTestClient client = await ConnectAsync();
        Assert.Contains("250-STARTTLS", await client.CommandAsync("EHLO client.test"));
        Assert.Equal("220 2.0.0 Ready to start TLS", await client.CommandAsync("STARTTLS"));
        await client.StartTlsAsync();
        Assert.Contains("250-AUTH PLAIN LOGIN", await client.CommandAsync("EHLO client.test"));
        return client;
    }

    /// <summary>Submission port under STARTTLS, authenticated as <paramref name="user"/>.</summary>
    public async Task<SmtpTestClient> ConnectAuthenticatedAsync(string user = Bob, string password = BobPassword)
    {
        SmtpTestClient client = await ConnectTlsAsync();
        Assert.Equal("235 2.7.0 Authentication successful", await client.CommandAsync("AUTH PLAIN " + TlsServer.Plain(user, password)));
        return client;
    }

    /// <summary>MAIL, one RCPT, DATA and the text; the final reply.</summary>
    public static async Task<string?> SendAsync(SmtpTestClient client, string from, string to, string text)
    {
        await client.OpenDataAsync(from, to);
        return await client.CommandAsync(text + "\r\n.");
    }
}
