using System.Net;
using System.Text;

namespace AbilisFast.Server.Delivery;

/// <summary>AUTH PLAIN or LOGIN on an SMTP client connection, with the secret kept out of the trace.</summary>
internal sealed partial class SmtpClientConnection
{
    /// <summary>
    /// AUTH PLAIN (RFC 4616) or, when the server only offers it, AUTH LOGIN. A refusal or a server
    /// without either mechanism is a temporary failure: the credentials may be fixed on the console.
    /// </summary>
    private async Task AuthenticateAsync(NetworkCredential credentials, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> offered = Capabilities.AuthMechanisms;
        SmtpReply reply;
        if (offered.Contains("PLAIN"))
        {
            string token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{credentials.UserName}\0{credentials.Password}"));
            await WriteSecretAsync($"AUTH PLAIN {token}", "AUTH PLAIN ****", cancellationToken).ConfigureAwait(false);
            reply = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
        }
        else if (offered.Contains("LOGIN"))
        {
            await WriteCommandsAsync(cancellationToken, "AUTH LOGIN").ConfigureAwait(false);
            reply = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            if (reply.Code == 334)
            {
                await WriteSecretAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials.UserName)), "(user name)", cancellationToken).ConfigureAwait(false);
                reply = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            }

            if (reply.Code == 334)
            {
                await WriteSecretAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials.Password)), "****", cancellationToken).ConfigureAwait(false);
                reply = await ReadReplyAsync(_options.CommandTimeout, null, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await QuitQuietlyAsync(cancellationToken).ConfigureAwait(false);
            throw new SmtpClientException(offered.Count == 0
                ? "SERVER-AUTH is YES but the server offers no AUTH" + (_tls is null ? " (some servers offer it only after STARTTLS)" : string.Empty)
                : $"SERVER-AUTH is YES but the server offers neither PLAIN nor LOGIN ({string.Join(' ', offered)})");
        }

        if (reply.Code != 235)
        {
            await QuitQuietlyAsync(cancellationToken).ConfigureAwait(false);
            throw new SmtpClientException($"authentication as {credentials.UserName} refused: {reply}",
                reply.IsPermanent ? new SmtpReply(454, $"4.7.0 {reply}") : reply);
        }
    }

    /// <summary>A line that must not appear in the trace as it is.</summary>
    private async Task WriteSecretAsync(string line, string shown, CancellationToken cancellationToken)
    {
        _options.Trace?.Invoke(">>> " + shown);
        _suppressTrace = true;
        try
        {
            await WriteCommandsAsync(cancellationToken, line).ConfigureAwait(false);
        }
        finally
        {
            _suppressTrace = false;
        }
    }
}
