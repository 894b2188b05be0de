namespace AgentGateway.Silo.Routing;

/// <summary>
/// The answer cache (section <c>Cache</c>): looked up before every model call, and the fallback chain's last route
/// before the deterministic text. In process by default; in Redis (shared by all nodes) when <c>Redis:Configuration</c> is set.
/// </summary>
public sealed class CacheOptions : System.ComponentModel.DataAnnotations.IValidatableObject
{
    public const string SectionName = "Cache";
    public const int DefaultMaxEntries = 1_000;
    public static readonly TimeSpan DefaultTimeToLive = TimeSpan.FromMinutes(5);

    /// <summary>False: never store or serve cached answers. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Answers kept; the oldest leave first. Default 1,000: every answer is stored, so a large in-process cache
    /// of mostly unique conversations keeps promoting objects into older GC generations (measured at 10,000:
    /// p99 at one connection +3.7 ms; at 1,000: +0.34 ms; docs/benchmarks.md). With Redis the cache lives there and this bound does not apply.
    /// </summary>
    public int MaxEntries { get; set; } = DefaultMaxEntries;

    /// <summary>How long an answer may be served after it was stored. Default 5 minutes (also the Redis entries' TTL).</summary>
    public TimeSpan TimeToLive { get; set; } = DefaultTimeToLive;

    public IEnumerable<System.ComponentModel.DataAnnotations.ValidationResult> Validate(System.ComponentModel.DataAnnotations.ValidationContext validationContext)
    {
        if (MaxEntries is < 1 or > 10_000_000)
        {
            yield return new($"{SectionName}:{nameof(MaxEntries)} must be from 1 to 10,000,000 (was {MaxEntries}).");
        }

        if (TimeToLive <= TimeSpan.Zero)
        {
            yield return new($"{SectionName}:{nameof(TimeToLive)} must be positive (was {TimeToLive}).");
        }
    }
}
