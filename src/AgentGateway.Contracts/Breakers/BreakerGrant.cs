namespace AgentGateway.Contracts.Breakers;

/// <summary>The breaker grain's answer to a silo's <see cref="IBreakerGrain.AcquireAsync"/>: the lease, and the view as of it.</summary>
[GenerateSerializer, Immutable]
public sealed record BreakerGrant(
    [property: Id(0)] BreakerLease Lease,
    [property: Id(1)] BreakerView View);
