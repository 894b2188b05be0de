using System.ComponentModel.DataAnnotations;

namespace AgentGateway.Silo.Cluster;

/// <summary>The Orleans silo this process hosts (configuration section <c>Cluster</c>); one node alone uses it too.</summary>
public sealed class ClusterOptions : IValidatableObject
{
    public const string SectionName = "Cluster";
    public const string DefaultClusterId = "agent-gateway";
    public static readonly TimeSpan DefaultCollectionAge = TimeSpan.FromMinutes(10);

    /// <summary>The node's name: the silo's name and the node named in alerts. Default <c>{host name}:{process id}</c>. At most 128 characters.</summary>
    [MaxLength(128)]
    public string? NodeId { get; set; }

    /// <summary>
    /// The loopback port silos talk to each other on. Default 0: a free port is picked at start (the embedded default
    /// talks to no other silo, so any port serves).
    /// </summary>
    [Range(0, 65535)]
    public int SiloPort { get; set; }

    /// <summary>The Orleans cluster and service id. Default <c>agent-gateway</c>.</summary>
    public string ClusterId { get; set; } = DefaultClusterId;

    /// <summary>A grain (session, conversation) that handled no call for this long is deactivated. 1 minute to 1 day. Default 10 minutes.</summary>
    public TimeSpan CollectionAge { get; set; } = DefaultCollectionAge;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (NodeId is not null && (NodeId.Length == 0 || NodeId.Any(char.IsControl)))
        {
            yield return new($"{SectionName}:{nameof(NodeId)} must be non-empty printable text (was '{NodeId}').");
        }

        if (string.IsNullOrWhiteSpace(ClusterId) || ClusterId.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.')))
        {
            yield return new($"{SectionName}:{nameof(ClusterId)} must be letters, digits and - _ . (was '{ClusterId}').");
        }

        if (CollectionAge < TimeSpan.FromMinutes(1) || CollectionAge > TimeSpan.FromDays(1))
        {
            yield return new($"{SectionName}:{nameof(CollectionAge)} must be from 1 minute to 1 day (was {CollectionAge}).");
        }
    }
}
