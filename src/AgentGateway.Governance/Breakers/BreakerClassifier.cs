namespace AgentGateway.Governance.Breakers;

/// <summary>Turns what a model call returned into what the breaker counts.</summary>
public static class BreakerClassifier
{
    /// <summary>
    /// 5xx, 408 (request timeout) and 429 (throttled) are failures; every other 4xx is the caller's fault and is
    /// ignored; 1xx to 3xx are successes. A number outside 100–599 (e.g. 0 for "no response") is a failure:
    /// the model did not answer.
    /// </summary>
    public static BreakerOutcome FromStatus(int status) => status switch
    {
        408 or 429 => BreakerOutcome.Failure,
        >= 100 and < 400 => BreakerOutcome.Success,
        >= 400 and < 500 => BreakerOutcome.Ignored,
        _ => BreakerOutcome.Failure,
    };

    /// <summary>A call is slow when it took strictly longer than <paramref name="threshold"/>.</summary>
    public static bool IsSlow(TimeSpan duration, TimeSpan threshold) => duration > threshold;

    /// <summary>
    /// What the breaker makes of an outcome: a slow success is a <see cref="RecordedOutcome.SlowCall"/>; a
    /// failure stays a failure however long it took; an ignored client error stays ignored however long it took.
    /// </summary>
    public static RecordedOutcome Classify(BreakerOutcome outcome, TimeSpan duration, TimeSpan slowCallThreshold) => outcome switch
    {
        BreakerOutcome.Success => IsSlow(duration, slowCallThreshold) ? RecordedOutcome.SlowCall : RecordedOutcome.Success,
        BreakerOutcome.Failure => RecordedOutcome.Failure,
        BreakerOutcome.Ignored => RecordedOutcome.Ignored,
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "Unknown breaker outcome."),
    };
}
