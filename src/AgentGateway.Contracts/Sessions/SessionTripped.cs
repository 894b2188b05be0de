namespace AgentGateway.Contracts.Sessions;

/// <summary>A session tripped: raised once, by the session's grain, in the turn that tripped it.</summary>
/// <param name="Tenant">The tenant that owns the session (null when unowned).</param>
/// <param name="Model">The model of the call that tripped it (null when the caller did not say).</param>
[GenerateSerializer, Immutable]
public sealed record SessionTripped(
    [property: Id(0)] string SessionId,
    [property: Id(1)] TripReason Reason,
    [property: Id(2)] int LoopCount,
    [property: Id(3)] long TokensInWindow,
    [property: Id(4)] DateTimeOffset At,
    [property: Id(5)] string? Tenant = null,
    [property: Id(6)] string? Model = null);
