namespace AgentGateway.Contracts.Breakers;

/// <summary>
/// The breaker grain's answer to an operator's read or action: the breaker as the admin API shows it, and the view.
/// <paramref name="Busy"/>: the store refused the action's write (another process wrote the breaker); nothing changed,
/// the activation is dropped and the action may be asked again (<paramref name="Info"/> is then null).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record BreakerReply(
    [property: Id(0)] BreakerInfo? Info,
    [property: Id(1)] BreakerView View,
    [property: Id(2)] bool Busy = false);
