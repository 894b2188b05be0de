using System.Numerics;

namespace AgentGateway.Governance.Breakers;

/// <summary>Call outcomes counted in one bucket (or summed over a window). Slow calls are among the failures.</summary>
public readonly record struct HealthCounts(int Successes, int Failures)
    : IAdditionOperators<HealthCounts, HealthCounts, HealthCounts>, IAdditiveIdentity<HealthCounts, HealthCounts>
{
    public static readonly HealthCounts OneSuccess = new(1, 0);
    public static readonly HealthCounts OneFailure = new(0, 1);

    public static HealthCounts AdditiveIdentity => default;

    /// <summary>Calls that counted: successes plus failures (ignored client errors are in neither).</summary>
    public int Total => Successes + Failures;

    /// <summary>Failures over <see cref="Total"/>; 0 when nothing was counted.</summary>
    public double FailureRatio => Total == 0 ? 0 : (double)Failures / Total;

    public static HealthCounts operator +(HealthCounts left, HealthCounts right) =>
        new(left.Successes + right.Successes, left.Failures + right.Failures);
}
