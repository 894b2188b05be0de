using AgentGateway.Contracts.Breakers;

namespace AgentGateway.Governance.Breakers;

/// <summary>What a breaker looks like at one instant (for the admin API, metrics and tests).</summary>
/// <param name="Status">The state.</param>
/// <param name="FailureRatio">Failures over counted calls in the sampling window (0 when none).</param>
/// <param name="CallsInWindow">Counted calls (successes plus failures) in the sampling window.</param>
/// <param name="FailuresInWindow">Failures, slow calls included, in the sampling window.</param>
/// <param name="ConsecutiveFailures">Failures in a row while closed (a success resets it).</param>
/// <param name="NextHalfOpenAt">While open: when the next caller gets a probe. Null otherwise.</param>
/// <param name="OpenCount">Times the breaker opened (re-opens from half-open included) since it was made or reset.</param>
/// <param name="BreakDuration">The break the breaker is serving, or will serve when it next opens from closed.</param>
/// <param name="ProbesInFlight">Half-open probes admitted and not yet reported.</param>
/// <param name="ChangedAt">When the state last changed (null: never).</param>
public readonly record struct BreakerSnapshot(
    BreakerStatus Status,
    double FailureRatio,
    int CallsInWindow,
    int FailuresInWindow,
    int ConsecutiveFailures,
    DateTimeOffset? NextHalfOpenAt,
    long OpenCount,
    TimeSpan BreakDuration,
    int ProbesInFlight,
    DateTimeOffset? ChangedAt);
