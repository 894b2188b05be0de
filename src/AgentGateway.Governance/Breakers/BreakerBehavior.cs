using AgentGateway.Contracts.Breakers;

namespace AgentGateway.Governance.Breakers;

/// <summary>
/// Decides when a closed breaker must open: the failure ratio over the sampling window once it holds
/// <see cref="BreakerOptions.MinimumThroughput"/> counted calls, or <see cref="BreakerOptions.ConsecutiveFailureThreshold"/>
/// failures in a row. Owns the health metrics and the consecutive count; knows nothing of states.
/// </summary>
internal sealed class BreakerBehavior(BreakerOptions options)
{
    public BreakerHealthMetrics Metrics { get; } = new(options.SamplingDuration, options.SamplingBuckets);

    public int ConsecutiveFailures { get; private set; }

    public void OnSuccess(DateTimeOffset now)
    {
        ConsecutiveFailures = 0;
        Metrics.RecordSuccess(now);
    }

    /// <summary>Counts a failure; returns why the breaker must open, or null to stay closed.</summary>
    public BreakerTransitionReason? OnFailure(DateTimeOffset now)
    {
        ConsecutiveFailures++;
        Metrics.RecordFailure(now);

        if (ConsecutiveFailures >= options.ConsecutiveFailureThreshold)
        {
            return BreakerTransitionReason.ConsecutiveFailures;
        }

        var counts = Metrics.Counts(now);
        if (counts.Total >= options.MinimumThroughput && counts.FailureRatio >= options.FailureRatio)
        {
            return BreakerTransitionReason.FailureRatio;
        }

        return null;
    }

    /// <summary>The breaker closed: evidence from before the break says nothing about the model now.</summary>
    public void Reset()
    {
        ConsecutiveFailures = 0;
        Metrics.Clear();
    }

    public void Load(int consecutiveFailures, long[] buckets, int[] successes, int[] failures)
    {
        ConsecutiveFailures = Math.Max(0, consecutiveFailures);
        Metrics.Import(buckets, successes, failures);
    }
}
