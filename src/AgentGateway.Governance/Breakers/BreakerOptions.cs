using System.ComponentModel.DataAnnotations;

namespace AgentGateway.Governance.Breakers;

/// <summary>Per-model circuit breaker settings (configuration section <c>Breakers</c>).</summary>
/// <remarks>
/// Every rule is checked in <see cref="Validate"/> rather than by attributes: the data-annotations validator
/// skips <see cref="IValidatableObject.Validate"/> as soon as one attribute fails, and a bad setting must be
/// reported with every other one at once.
/// </remarks>
public sealed class BreakerOptions : IValidatableObject
{
    public const string SectionName = "Breakers";
    public const double DefaultFailureRatio = 0.5;
    public static readonly TimeSpan DefaultSamplingDuration = TimeSpan.FromSeconds(30);
    public const int DefaultSamplingBuckets = 10;
    public const int DefaultMinimumThroughput = 10;
    public const int DefaultConsecutiveFailureThreshold = 5;
    public static readonly TimeSpan DefaultSlowCallThreshold = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultBreakDuration = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultMaxBreakDuration = TimeSpan.FromMinutes(5);
    public const int DefaultHalfOpenMaxProbes = 1;
    public static readonly TimeSpan DefaultReportInterval = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan MinimumDuration = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaximumDuration = TimeSpan.FromDays(1);
    private const int MaximumCount = 100_000;
    private static readonly TimeSpan MinimumReportInterval = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaximumReportInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Failures over counted calls in the sampling window at which the breaker opens (once
    /// <see cref="MinimumThroughput"/> is met). Above 0, at most 1. Default 0.5.
    /// </summary>
    public double FailureRatio { get; set; } = DefaultFailureRatio;

    /// <summary>Length of the sampling window for the failure ratio. 1 second to 1 day. Default 30 seconds.</summary>
    public TimeSpan SamplingDuration { get; set; } = DefaultSamplingDuration;

    /// <summary>Buckets the sampling window is kept in (its resolution). 1 to 1,000. Default 10.</summary>
    public int SamplingBuckets { get; set; } = DefaultSamplingBuckets;

    /// <summary>Counted calls the window must hold before the failure ratio may open the breaker. 2 to 100,000. Default 10.</summary>
    public int MinimumThroughput { get; set; } = DefaultMinimumThroughput;

    /// <summary>Failures in a row (while closed) that open the breaker whatever the ratio. 1 to 100,000. Default 5.</summary>
    public int ConsecutiveFailureThreshold { get; set; } = DefaultConsecutiveFailureThreshold;

    /// <summary>A successful call that took longer than this counts as a failure. Above 0, at most 1 day. Default 10 seconds.</summary>
    public TimeSpan SlowCallThreshold { get; set; } = DefaultSlowCallThreshold;

    /// <summary>How long the breaker stays open the first time. 1 second to 1 day. Default 30 seconds.</summary>
    public TimeSpan BreakDuration { get; set; } = DefaultBreakDuration;

    /// <summary>
    /// Cap of the break, which doubles on each re-open from half-open and returns to <see cref="BreakDuration"/>
    /// on close. At least <see cref="BreakDuration"/>, at most 1 day. Default 5 minutes.
    /// </summary>
    public TimeSpan MaxBreakDuration { get; set; } = DefaultMaxBreakDuration;

    /// <summary>Probes a half-open breaker lets through at a time. 1 to 100,000. Default 1.</summary>
    public int HalfOpenMaxProbes { get; set; } = DefaultHalfOpenMaxProbes;

    /// <summary>
    /// A probe not reported after longer than this counts as a failure and re-opens the breaker, so a hung
    /// probe cannot hold the breaker half-open. Above 0, at most 1 day. Default null: <see cref="SlowCallThreshold"/>
    /// (a probe that takes longer would count as a slow call anyway).
    /// </summary>
    public TimeSpan? ProbeTimeout { get; set; }

    /// <summary>
    /// How long a silo holds closed-state successes before it sends them to the model's breaker grain in one call. A
    /// failure or slow call is sent at once, with every outcome held before it, so only successes wait; a breaker's
    /// window lags a silo's successes by at most this much. 1 millisecond to 10 seconds. Default 100 milliseconds.
    /// </summary>
    public TimeSpan ReportInterval { get; set; } = DefaultReportInterval;

    /// <summary>The probe timeout in force: <see cref="ProbeTimeout"/> or else <see cref="SlowCallThreshold"/>.</summary>
    public TimeSpan EffectiveProbeTimeout => ProbeTimeout ?? SlowCallThreshold;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!(FailureRatio > 0 && FailureRatio <= 1))
        {
            yield return Error(nameof(FailureRatio), "must be above 0 and at most 1", FailureRatio);
        }

        if (SamplingDuration < MinimumDuration || SamplingDuration > MaximumDuration)
        {
            yield return Error(nameof(SamplingDuration), "must be from 1 second to 1 day", SamplingDuration);
        }

        if (SamplingBuckets is < 1 or > 1_000)
        {
            yield return Error(nameof(SamplingBuckets), "must be from 1 to 1000", SamplingBuckets);
        }

        if (MinimumThroughput is < 2 or > MaximumCount)
        {
            yield return Error(nameof(MinimumThroughput), "must be from 2 to 100000", MinimumThroughput);
        }

        if (ConsecutiveFailureThreshold is < 1 or > MaximumCount)
        {
            yield return Error(nameof(ConsecutiveFailureThreshold), "must be from 1 to 100000", ConsecutiveFailureThreshold);
        }

        if (SlowCallThreshold <= TimeSpan.Zero || SlowCallThreshold > MaximumDuration)
        {
            yield return Error(nameof(SlowCallThreshold), "must be above 0 and at most 1 day", SlowCallThreshold);
        }

        if (BreakDuration < MinimumDuration || BreakDuration > MaximumDuration)
        {
            yield return Error(nameof(BreakDuration), "must be from 1 second to 1 day", BreakDuration);
        }

        if (MaxBreakDuration < BreakDuration || MaxBreakDuration > MaximumDuration)
        {
            yield return Error(nameof(MaxBreakDuration), $"must be from {nameof(BreakDuration)} ({BreakDuration}) to 1 day", MaxBreakDuration);
        }

        if (HalfOpenMaxProbes is < 1 or > MaximumCount)
        {
            yield return Error(nameof(HalfOpenMaxProbes), "must be from 1 to 100000", HalfOpenMaxProbes);
        }

        if (ProbeTimeout is { } probeTimeout && (probeTimeout <= TimeSpan.Zero || probeTimeout > MaximumDuration))
        {
            yield return Error(nameof(ProbeTimeout), "must be above 0 and at most 1 day", probeTimeout);
        }

        if (ReportInterval < MinimumReportInterval || ReportInterval > MaximumReportInterval)
        {
            yield return Error(nameof(ReportInterval), "must be from 1 millisecond to 10 seconds", ReportInterval);
        }
    }

    private static ValidationResult Error(string member, string rule, object value) =>
        new($"{SectionName}:{member} {rule} (was {value}).", [member]);
}
