using AbilisFast.Server.Runtime;
using Microsoft.Extensions.ObjectPool;

namespace AbilisFast.Server.Sessions;

/// <summary>Creates sessions bound to the shared context and resets them when they come back.</summary>
internal sealed class InSessionPolicy(SmtpContext context, ChannelStress? stress = null) : PooledObjectPolicy<InSession>
{
    public override InSession Create() => new(context, stress);

    public override bool Return(InSession obj) => obj.TryReset();
}
