namespace AgentGateway.Governance.Breakers;

/// <summary>What <see cref="CircuitBreaker.OnOutcome"/> made of a reported outcome (for metrics and logs).</summary>
public enum RecordedOutcome
{
    /// <summary>Counted as a success.</summary>
    Success = 0,

    /// <summary>Counted as a failure.</summary>
    Failure = 1,

    /// <summary>A success that took longer than the slow-call threshold: counted as a failure.</summary>
    SlowCall = 2,

    /// <summary>A client error: counted as neither success nor failure (a probe's slot is freed).</summary>
    Ignored = 3,

    /// <summary>
    /// The permit belongs to an earlier state (the breaker changed state since the call was admitted, the probe
    /// timed out, or the outcome was already reported): not counted.
    /// </summary>
    Stale = 4,
}
