namespace AgentGateway.Governance.Breakers;

/// <summary>Why <see cref="CircuitBreaker.TryAcquire"/> refused a call.</summary>
public enum BreakerRejection
{
    /// <summary>Not refused.</summary>
    None = 0,

    /// <summary>The breaker is open and its break has not elapsed.</summary>
    Open = 1,

    /// <summary>The breaker is half-open and every probe slot is taken.</summary>
    HalfOpenBusy = 2,

    /// <summary>An operator isolated the breaker.</summary>
    Isolated = 3,
}
