using AbilisFast.Protocol.Esmtp;
using AbilisFast.Server.Queue;

namespace AbilisFast.Server.Delivery;

/// <summary>
/// One recipient of an outgoing transaction, with the DSN parameters that travel with it when the
/// next hop offers DSN. <see cref="OriginalRecipient"/> is the ORCPT value as received
/// ("rfc822;user@example.com", still xtext-encoded), or null.
/// </summary>
internal sealed record OutboundRecipient(string Address, DsnNotify Notify = DsnNotify.None, string? OriginalRecipient = null);
