namespace AbilisFast.Server.Tests.Support;

/// <summary>Clients a test keeps open side by side (holders of channels, idle sessions); disposing closes them all.</summary>
internal sealed class SmtpClientList : List<SmtpTestClient>, IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        foreach (SmtpTestClient client in this)
        {
            await client.DisposeAsync();
        }
    }
}
