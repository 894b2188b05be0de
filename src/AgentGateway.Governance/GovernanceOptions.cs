using System.ComponentModel.DataAnnotations;

namespace AgentGateway.Governance;

/// <summary>Session governance limits (configuration section <c>Governance</c>).</summary>
public sealed class GovernanceOptions : IValidatableObject
{
    public const string SectionName = "Governance";
    public const int DefaultMaxLoops = 5;
    public const long DefaultTokenBudget = 10_000;
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromSeconds(60);
    public const int DefaultWindowBuckets = 10;
    public const int DefaultRecentTasks = 16;
    public const int DefaultStreamGrantTokens = 256;
    public const int DefaultAuditEntries = 50;

    /// <summary>Model calls allowed per task (since the human last spoke). Default 5.</summary>
    [Range(1, 100_000)]
    public int MaxLoops { get; set; } = DefaultMaxLoops;

    /// <summary>Input plus output tokens allowed inside <see cref="Window"/>. Default 10,000.</summary>
    [Range(1L, long.MaxValue)]
    public long TokenBudget { get; set; } = DefaultTokenBudget;

    /// <summary>Length of the token-velocity window. Default 60 seconds.</summary>
    public TimeSpan Window { get; set; } = DefaultWindow;

    /// <summary>Buckets the window is kept in (its resolution). Default 10.</summary>
    [Range(1, 3600)]
    public int WindowBuckets { get; set; } = DefaultWindowBuckets;

    /// <summary>Task fingerprints remembered so a re-sent old history cannot start a new task. Default 16.</summary>
    [Range(1, 1024)]
    public int RecentTasks { get; set; } = DefaultRecentTasks;

    /// <summary>
    /// Tokens a streaming call takes from the budget at a time (the session grain is asked once per grant, not
    /// per chunk). Unused tokens go back when the call settles. Default 256.
    /// </summary>
    [Range(1, 1_000_000)]
    public int StreamGrantTokens { get; set; } = DefaultStreamGrantTokens;

    /// <summary>
    /// Audit entries a session keeps in its stored state (its newest decisions and operator actions; oldest dropped
    /// first). 0 keeps none. Default 50.
    /// </summary>
    [Range(0, 1000)]
    public int AuditEntries { get; set; } = DefaultAuditEntries;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Window < TimeSpan.FromSeconds(1))
        {
            yield return new ValidationResult($"{SectionName}:{nameof(Window)} must be at least 1 second (was {Window}).", [nameof(Window)]);
        }
    }
}
