using System.ComponentModel.DataAnnotations;

namespace AgentGateway.Silo.Cluster;

/// <summary>How a node takes part in a cluster (configuration section <c>Cluster</c>); one node alone uses it too.</summary>
public sealed class ClusterOptions : IValidatableObject
{
    public const string SectionName = "Cluster";
    public static readonly TimeSpan DefaultHeartbeatInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan DefaultDeadAfter = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultBreakerRefreshInterval = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan DefaultTripLookback = TimeSpan.FromHours(1);

    /// <summary>The node's id in the registry and in alerts; default <c>{host name}:{process id}</c>. At most 128 characters.</summary>
    [MaxLength(128)]
    public string? NodeId { get; set; }

    /// <summary>Where operators reach the node (shown in <c>GET /admin/nodes</c>); default: the first address it listens on.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>How often the node writes its registry record. Default 2 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = DefaultHeartbeatInterval;

    /// <summary>A node whose last heartbeat is older than this is gone: no longer listed, its undelivered alerts adopted. Default 10 s.</summary>
    public TimeSpan DeadAfter { get; set; } = DefaultDeadAfter;

    /// <summary>
    /// How often every breaker rereads the shared store, so a breaker another node opened (or an operator isolated) is
    /// seen here within this time plus one read. Default 500 ms; zero turns it off (a node alone needs none).
    /// </summary>
    public TimeSpan BreakerRefreshInterval { get; set; } = DefaultBreakerRefreshInterval;

    /// <summary>How far back trips are checked for a missing alert when a node is found gone (and at start). Default 1 h.</summary>
    public TimeSpan TripLookback { get; set; } = DefaultTripLookback;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (NodeId is not null && (NodeId.Length == 0 || NodeId.Any(char.IsControl)))
        {
            yield return new($"{SectionName}:{nameof(NodeId)} must be non-empty printable text (was '{NodeId}').");
        }

        if (HeartbeatInterval < TimeSpan.FromMilliseconds(100))
        {
            yield return new($"{SectionName}:{nameof(HeartbeatInterval)} must be at least 00:00:00.1 (was {HeartbeatInterval}).");
        }

        if (DeadAfter < 2 * HeartbeatInterval)
        {
            yield return new($"{SectionName}:{nameof(DeadAfter)} must be at least twice {SectionName}:{nameof(HeartbeatInterval)} (was {DeadAfter}, heartbeat {HeartbeatInterval}): one late heartbeat must not declare a node dead.");
        }

        if (BreakerRefreshInterval < TimeSpan.Zero || (BreakerRefreshInterval > TimeSpan.Zero && BreakerRefreshInterval < TimeSpan.FromMilliseconds(50)))
        {
            yield return new($"{SectionName}:{nameof(BreakerRefreshInterval)} must be zero (off) or at least 00:00:00.05 (was {BreakerRefreshInterval}).");
        }

        if (TripLookback <= TimeSpan.Zero)
        {
            yield return new($"{SectionName}:{nameof(TripLookback)} must be positive (was {TripLookback}).");
        }
    }
}
