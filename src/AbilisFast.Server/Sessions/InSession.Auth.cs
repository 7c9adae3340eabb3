using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using AbilisFast.Protocol.Lines;
using AbilisFast.Protocol.Replies;
using AbilisFast.Server.Access;

namespace AbilisFast.Server.Sessions;

/// <summary>
/// SMTP AUTH (RFC 4954) with PLAIN (RFC 4616, initial response allowed) and LOGIN. Offered in EHLO
/// under TLS, or before TLS with AUTH-PLAINTEXT:YES. Passwords are checked against WDIR/users
/// (<see cref="SmtpAuthUsers"/>) on the thread pool, since PBKDF2 takes milliseconds; a failure
/// counts as a session error and as one IPBAN failure. Credentials never reach the trace.
/// </summary>
internal sealed partial class InSession
{
    private AuthStage _authStage;
    private bool _authenticated;
    private string? _authName;
    private string? _authPassword;
    private string? _authUser;

    /// <summary>Which client response an AUTH exchange waits for.</summary>
    private enum AuthStage : byte
    {
        None,
        PlainResponse,
        LoginUser,
        LoginPassword,
    }

    /// <summary>AUTH is listed in EHLO when there are users and the channel is encrypted (or AUTH-PLAINTEXT allows it).</summary>
    private bool AuthOffered =>
        _context.AuthUsers is not null && (Transport.IsSecure || PlaintextAuthAllowed);

    private void ResetAuth()
    {
        _authStage = AuthStage.None;
        _authenticated = false;
        _authName = null;
        _authPassword = null;
        _authUser = null;
    }

    private Step Auth(ReadOnlySpan<byte> argument)
    {
        if (AuthRefusal() is { } refused)
        {
            return refused;
        }

        int space = argument.IndexOf((byte)' ');
        ReadOnlySpan<byte> mechanism = space < 0 ? argument : argument[..space];
        ReadOnlySpan<byte> initial = space < 0 ? default : argument[(space + 1)..];
        if (mechanism.IsEmpty || (space >= 0 && initial.IsEmpty))
        {
            return Error(SmtpReplies.AuthSyntax);
        }

        if (Ascii.EqualsIgnoreCase(mechanism, "PLAIN"u8))
        {
            if (initial.IsEmpty)
            {
                _authStage = AuthStage.PlainResponse;
                Reply(SmtpReplies.AuthContinue);
                return Step.Continue;
            }

            return initial.SequenceEqual("*"u8) ? Error(SmtpReplies.AuthCancelled) : Plain(initial);
        }

        if (Ascii.EqualsIgnoreCase(mechanism, "LOGIN"u8))
        {
            if (initial.IsEmpty)
            {
                _authStage = AuthStage.LoginUser;
                Reply(SmtpReplies.AuthLoginUser);
                return Step.Continue;
            }

            return LoginUser(initial);
        }

        return Error(SmtpReplies.AuthMechanism);
    }

    /// <summary>Why AUTH cannot be used now (not offered, done already, plain text without TLS, no EHLO), or null.</summary>
    private Step? AuthRefusal()
    {
        if (_context.AuthUsers is null)
        {
            return Error(SmtpReplies.NotImplemented);
        }

        if (_authenticated)
        {
            return Error(SmtpReplies.AlreadyAuthenticated);
        }

        if (!Transport.IsSecure && !PlaintextAuthAllowed)
        {
            return Error(_context.Settings.TlsRequired || _submission ? SmtpReplies.TlsRequired : SmtpReplies.AuthEncryptionRequired);
        }

        return _helo.Extended ? null : Error(SmtpReplies.AuthNeedsEhlo);
    }

    /// <summary>
    /// True for any line whose first word starts with AUTH, whatever follows and whatever the case
    /// (<c>AUTH\tPLAIN blob</c> is no AUTH command, but it holds a password all the same).
    /// </summary>
    private static bool StartsWithAuth(ReadOnlySpan<byte> line)
    {
        line = line.TrimStart(" \t"u8);
        return line.Length >= 4 && Ascii.EqualsIgnoreCase(line[..4], "AUTH"u8);
    }

    /// <summary>
    /// The trace of a line that starts with AUTH: the verb; the mechanism when, after one space, it is
    /// PLAIN or LOGIN (the ones offered) and ends the line or is followed by one space; and
    /// "[initial response not logged]" in place of anything else, whatever the separators (an unknown word could
    /// be a base64 credential sent without its mechanism).
    /// </summary>
    private void TraceAuth(ReadOnlySpan<byte> line)
    {
        line = line.TrimStart(" \t"u8);
        ReadOnlySpan<byte> rest = line[4..];
        int mechanism = 0;
        if (rest.Length > 1 && rest[0] == (byte)' ')
        {
            ReadOnlySpan<byte> word = rest[1..];
            int end = word.IndexOf((byte)' ');
            word = end < 0 ? word : word[..end];
            if (Ascii.EqualsIgnoreCase(word, "PLAIN"u8) || Ascii.EqualsIgnoreCase(word, "LOGIN"u8))
            {
                mechanism = word.Length;
            }
        }

        int shownLength = 4 + (mechanism > 0 ? 1 + mechanism : 0);
        bool hidden = line.Length > shownLength;
        ReadOnlySpan<byte> note = " [initial response not logged]"u8;
        Span<byte> shown = stackalloc byte[4 + 1 + 5 + 30];
        line[..shownLength].CopyTo(shown);
        if (hidden)
        {
            note.CopyTo(shown[shownLength..]);
        }

        Trace("<- "u8, shown[..(shownLength + (hidden ? note.Length : 0))]);
    }

    /// <summary>A line sent in answer to a 334 challenge.</summary>
    private Step AuthResponse(ReadOnlySpan<byte> line)
    {
        if (_context.Log.Verbose)
        {
            Trace("<- "u8, "[AUTH response not logged]"u8);
        }

        AuthStage stage = _authStage;
        _authStage = AuthStage.None;
        if (line.SequenceEqual("*"u8))
        {
            _authName = null;
            return Error(SmtpReplies.AuthCancelled);
        }

        switch (stage)
        {
            case AuthStage.PlainResponse:
                return Plain(line);
            case AuthStage.LoginUser:
                return LoginUser(line);
            default:
                if (!TryDecodeText(line, out string? password))
                {
                    _authName = null;
                    return Error(SmtpReplies.AuthBadBase64);
                }

                _authPassword = password;
                return Step.Authenticate;
        }
    }

    private Step LoginUser(ReadOnlySpan<byte> response)
    {
        if (!TryDecodeText(response, out string? name))
        {
            return Error(SmtpReplies.AuthBadBase64);
        }

        _authName = name;
        _authStage = AuthStage.LoginPassword;
        Reply(SmtpReplies.AuthLoginPassword);
        return Step.Continue;
    }

    /// <summary>PLAIN: base64 of authzid NUL authcid NUL passwd; an authzid other than authcid is refused.</summary>
    private Step Plain(ReadOnlySpan<byte> response)
    {
        Span<byte> decoded = stackalloc byte[LineReader.MaxCommandLine];
        try
        {
            if (!TryDecode(response, decoded, out int length))
            {
                return Error(SmtpReplies.AuthBadBase64);
            }

            ReadOnlySpan<byte> message = decoded[..length];
            int first = message.IndexOf((byte)0);
            int second = first < 0 ? -1 : message[(first + 1)..].IndexOf((byte)0);
            if (second < 0 || message[(first + 1 + second + 1)..].Contains((byte)0))
            {
                _authName = string.Empty;
                _authPassword = string.Empty;
                return Step.Authenticate;
            }

            ReadOnlySpan<byte> authzid = message[..first];
            ReadOnlySpan<byte> authcid = message.Slice(first + 1, second);
            ReadOnlySpan<byte> password = message[(first + 1 + second + 1)..];
            bool proxy = !authzid.IsEmpty && !authzid.SequenceEqual(authcid);
            _authName = Encoding.UTF8.GetString(authcid);
            _authPassword = proxy ? string.Empty : Encoding.UTF8.GetString(password);
            return Step.Authenticate;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(decoded);
        }
    }

    private static bool TryDecodeText(ReadOnlySpan<byte> response, out string? text)
    {
        Span<byte> decoded = stackalloc byte[LineReader.MaxCommandLine];
        text = null;
        if (!TryDecode(response, decoded, out int length))
        {
            return false;
        }

        text = Encoding.UTF8.GetString(decoded[..length]);
        CryptographicOperations.ZeroMemory(decoded);
        return true;
    }

    /// <summary>Strict base64 (padding required, no spaces); "=" alone is the empty response.</summary>
    private static bool TryDecode(ReadOnlySpan<byte> base64, Span<byte> destination, out int written)
    {
        written = 0;
        if (base64.SequenceEqual("="u8))
        {
            return true;
        }

        return !base64.IsEmpty && base64.Length % 4 == 0
            && Base64.DecodeFromUtf8(base64, destination, out int consumed, out written) == OperationStatus.Done
            && consumed == base64.Length;
    }

    /// <summary>Checks the collected credentials on the thread pool (PBKDF2), then answers 235 or 535.</summary>
    private async Task AuthenticateAsync()
    {
        string name = _authName ?? string.Empty;
        string password = _authPassword ?? string.Empty;
        _authName = null;
        _authPassword = null;
        SmtpAuthUsers users = _context.AuthUsers!;
        Access.IBanList bans = _context.Bans;
        IPAddress remote = _remote;
        bool ok = await Task.Run(() =>
        {
            bool valid = password.Length > 0 && UserStore.IsValidName(name) && users.Verify(name, password);
            if (!valid)
            {
                bans.RecordFailure(remote, "smtp auth");
            }

            return valid;
        }).ConfigureAwait(false);
        Touch();
        // The name as given (printable, cut at 64 characters), never the password.
        string shown = ShownName(name);
        if (ok)
        {
            _authenticated = true;
            _authUser = shown;
            LogSession($"AUTH: {remote} authenticated as '{shown}'");
            Reply(SmtpReplies.AuthOk);
            return;
        }

        LogSession($"AUTH: {remote} failed to authenticate as '{shown}'{(UserStore.IsValidName(name) ? string.Empty : " (not a valid user name)")}");
        if (Error(SmtpReplies.AuthFailed) == Step.Close)
        {
            _closing = true;
        }
        else if (bans.IsBanned(remote))
        {
            Reply(SmtpReplies.AuthBanned);
            _closing = true;
        }
    }

    private static string ShownName(string name)
    {
        var shown = new StringBuilder(Math.Min(name.Length, 64));
        foreach (char c in name.Length > 64 ? name[..64] : name)
        {
            shown.Append(UnsafeText.IsUnsafe(c) ? '?' : c);
        }

        return name.Length > 64 ? shown.Append("...").ToString() : shown.ToString();
    }

    /// <summary>
    /// RFC 4954 5: AUTH= on MAIL FROM names the mailbox that submitted the message. It is trusted only
    /// from a client that authenticated in this session; from any other the server behaves as if it
    /// were AUTH=&lt;&gt;. Like Postfix (sasl_sender=), the value goes into the session log.
    /// </summary>
    private void RecordAuthSender(ReadOnlySpan<byte> value)
    {
        string text = Encoding.ASCII.GetString(value);
        LogSession(_authenticated
            ? $"AUTH: MAIL FROM AUTH={text} trusted (the client authenticated as {_authUser})"
            : $"AUTH: MAIL FROM AUTH={text} not trusted, taken as AUTH=<> (the client has not authenticated)");
    }
}
