using AgentGateway.Contracts.Breakers;

namespace AgentGateway.Governance.Breakers;

/// <summary>
/// One state change, recorded after it happened for the owner to log or alert on
/// (<see cref="CircuitBreaker.DrainTransitions"/>); the breaker itself never calls out.
/// </summary>
/// <param name="From">The state left.</param>
/// <param name="To">The state entered.</param>
/// <param name="Reason">Why.</param>
/// <param name="At">When, by the caller's clock (for a probe timeout: the moment the probe ran out of time).</param>
public sealed record BreakerTransition(BreakerStatus From, BreakerStatus To, BreakerTransitionReason Reason, DateTimeOffset At);
