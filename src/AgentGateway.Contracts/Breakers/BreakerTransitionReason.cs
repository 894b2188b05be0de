namespace AgentGateway.Contracts.Breakers;

/// <summary>Why a breaker changed state. The numbers may be stored or sent: never renumber.</summary>
public enum BreakerTransitionReason
{
    /// <summary>Closed to open: the failure ratio over the sampling window reached the threshold.</summary>
    FailureRatio = 0,

    /// <summary>Closed to open: the consecutive-failure threshold was reached.</summary>
    ConsecutiveFailures = 1,

    /// <summary>Open to half-open: the break elapsed and a caller came for a probe.</summary>
    BreakElapsed = 2,

    /// <summary>Half-open to closed: a probe succeeded.</summary>
    ProbeSucceeded = 3,

    /// <summary>Half-open to open: a probe failed (or was slow).</summary>
    ProbeFailed = 4,

    /// <summary>Half-open to open: a probe did not report within the probe timeout.</summary>
    ProbeTimedOut = 5,

    /// <summary>Operator action: forced open.</summary>
    Isolated = 6,

    /// <summary>Operator action: forced closed.</summary>
    ManualClose = 7,

    /// <summary>Operator action: reset to a new breaker.</summary>
    Reset = 8,
}
