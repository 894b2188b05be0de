namespace AgentGateway.Contracts.Breakers;

/// <summary>
/// One state change, recorded after it happened for the owner to log or alert on
/// (the circuit breaker's <c>DrainTransitions</c>); the breaker itself never calls out.
/// </summary>
/// <param name="From">The state left.</param>
/// <param name="To">The state entered.</param>
/// <param name="Reason">Why.</param>
/// <param name="At">When, by the caller's clock (for a probe timeout: the moment the probe ran out of time).</param>
[GenerateSerializer, Immutable]
public sealed record BreakerTransition(
    [property: Id(0)] BreakerStatus From,
    [property: Id(1)] BreakerStatus To,
    [property: Id(2)] BreakerTransitionReason Reason,
    [property: Id(3)] DateTimeOffset At);
