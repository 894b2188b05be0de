namespace AgentGateway.Governance.Breakers;

/// <summary>
/// The answer of <see cref="CircuitBreaker.TryAcquire"/>. An allowed permit must be handed back, once, with the
/// call's outcome to <see cref="CircuitBreaker.OnOutcome"/>; only the breaker makes allowed permits. Its epoch and
/// ticket may travel (e.g. in a lease across a message boundary) and be turned back into a permit with
/// <see cref="CircuitBreaker.PermitFor"/>: the breaker still checks both when the outcome comes.
/// </summary>
public readonly record struct BreakerPermit
{
    internal BreakerPermit(bool isAllowed, bool isProbe, BreakerRejection rejection, DateTimeOffset? retryAt, long epoch, long ticket)
    {
        IsAllowed = isAllowed;
        IsProbe = isProbe;
        Rejection = rejection;
        RetryAt = retryAt;
        Epoch = epoch;
        Ticket = ticket;
    }

    /// <summary>True: the call may go ahead.</summary>
    public bool IsAllowed { get; }

    /// <summary>True: the call is a half-open probe; its outcome closes or re-opens the breaker.</summary>
    public bool IsProbe { get; }

    /// <summary>Why the call was refused; <see cref="BreakerRejection.None"/> when allowed.</summary>
    public BreakerRejection Rejection { get; }

    /// <summary>When an open breaker will admit a probe; null when allowed, half-open busy or isolated.</summary>
    public DateTimeOffset? RetryAt { get; }

    /// <summary>The breaker's state generation when the permit was made: an outcome from an older one is stale.</summary>
    public long Epoch { get; }

    /// <summary>Identifies the permit (a probe is matched to its slot by it).</summary>
    public long Ticket { get; }

    internal static BreakerPermit Rejected(BreakerRejection rejection, DateTimeOffset? retryAt) =>
        new(false, false, rejection, retryAt, 0, 0);
}
