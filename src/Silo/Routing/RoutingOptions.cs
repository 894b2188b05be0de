using System.ComponentModel.DataAnnotations;

namespace AgentGateway.Silo.Routing;

/// <summary>
/// Fallback chains, retries and deadlines (configuration section <c>Routing</c>).
/// </summary>
public sealed class RoutingOptions : IValidatableObject
{
    public const string SectionName = "Routing";
    public static readonly TimeSpan DefaultRequestDeadline = TimeSpan.FromSeconds(29);
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan DefaultRetryBaseDelay = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan DefaultRetryMaxDelay = TimeSpan.FromSeconds(2);
    public const int DefaultMaxRetries = 2;

    /// <summary>
    /// Alternate models per logical model, tried in order when it fails or its breaker is open. When the section
    /// is absent, every served model falls back to the others in name order (haiku → sonnet, sonnet → haiku).
    /// </summary>
    public Dictionary<string, string[]> Fallbacks { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The whole request's budget, retries and fallbacks included. Default 29 s (API Gateway's ceiling).</summary>
    public TimeSpan RequestDeadline { get; set; } = DefaultRequestDeadline;

    /// <summary>One model call's timeout; a call over it counts as a failure (504). Default 20 s.</summary>
    public TimeSpan CallTimeout { get; set; } = DefaultCallTimeout;

    /// <summary>Retries per model on throttling and transient errors (408, 429, 502, 503, 504, timeouts). Default 2.</summary>
    public int MaxRetries { get; set; } = DefaultMaxRetries;

    /// <summary>First retry delay; it doubles per retry, with jitter. Default 200 ms.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = DefaultRetryBaseDelay;

    /// <summary>Upper bound of one retry delay. Default 2 s.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = DefaultRetryMaxDelay;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RequestDeadline <= TimeSpan.Zero)
        {
            yield return new ValidationResult($"{SectionName}:{nameof(RequestDeadline)} must be positive (was {RequestDeadline}).");
        }

        if (CallTimeout <= TimeSpan.Zero || CallTimeout > TimeSpan.FromDays(1))
        {
            yield return new ValidationResult($"{SectionName}:{nameof(CallTimeout)} must be positive and at most a day (was {CallTimeout}).");
        }

        if (MaxRetries is < 0 or > 10)
        {
            yield return new ValidationResult($"{SectionName}:{nameof(MaxRetries)} must be between 0 and 10 (was {MaxRetries}).");
        }

        if (RetryBaseDelay <= TimeSpan.Zero || RetryBaseDelay > RetryMaxDelay)
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(RetryBaseDelay)} must be positive and at most {nameof(RetryMaxDelay)} (was {RetryBaseDelay}, max {RetryMaxDelay}).");
        }
    }
}
