using System.ComponentModel.DataAnnotations;

namespace AgentGateway.Runtime;

/// <summary>Settings of an actor host (configuration section <c>Actors</c>).</summary>
public sealed class ActorHostOptions : IValidatableObject
{
    public const string SectionName = "Actors";
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan DefaultCollectionInterval = TimeSpan.FromMinutes(1);
    public const int DefaultMailboxCapacity = 1024;

    /// <summary>An activation that processed no turn for this long is deactivated. Default 10 minutes.</summary>
    public TimeSpan IdleTimeout { get; set; } = DefaultIdleTimeout;

    /// <summary>How often idle activations are looked for. Default 1 minute.</summary>
    public TimeSpan CollectionInterval { get; set; } = DefaultCollectionInterval;

    /// <summary>
    /// Messages an activation may hold waiting; a message sent to a full mailbox fails at once with
    /// <see cref="MailboxFullException"/> rather than growing memory. Default 1024.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MailboxCapacity { get; set; } = DefaultMailboxCapacity;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (IdleTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult($"{SectionName}:{nameof(IdleTimeout)} must be positive (was {IdleTimeout}).", [nameof(IdleTimeout)]);
        }

        if (CollectionInterval <= TimeSpan.Zero)
        {
            yield return new ValidationResult($"{SectionName}:{nameof(CollectionInterval)} must be positive (was {CollectionInterval}).", [nameof(CollectionInterval)]);
        }
    }
}
