using System.ComponentModel.DataAnnotations;
using System.Net;

namespace AgentGateway.Silo.Cluster;

/// <summary>The Orleans silo this process hosts (configuration section <c>Cluster</c>); one node alone uses it too.</summary>
public sealed class ClusterOptions : IValidatableObject
{
    public const string SectionName = "Cluster";
    public const string DefaultClusterId = "agent-gateway";
    public static readonly TimeSpan DefaultCollectionAge = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan DefaultProbeTimeout = TimeSpan.FromSeconds(2);
    public const int DefaultMissedProbesLimit = 3;

    /// <summary>One silo alone on loopback, talking to no other: the embedded default.</summary>
    public const string Localhost = "Localhost";

    /// <summary>Silos find each other in Redis (<c>Redis:Configuration</c>) and form one Orleans cluster: cluster mode.</summary>
    public const string Redis = "Redis";

    /// <summary>
    /// How the silo finds the others: <c>Localhost</c> (the default: one silo) or <c>Redis</c> (cluster mode: Orleans'
    /// Redis membership and reminders on <c>Redis:Configuration</c>; grain state must then outlive a silo, so
    /// <c>Storage:Provider=DynamoDb</c> is required).
    /// </summary>
    public string Membership { get; set; } = Localhost;

    /// <summary>The node's name: the silo's name and the node named in alerts. Default <c>{host name}:{process id}</c>. At most 128 characters.</summary>
    [MaxLength(128)]
    public string? NodeId { get; set; }

    /// <summary>
    /// The port silos talk to each other on. Default 0: a free port is picked at start (the membership table records
    /// it, so the other silos still find it); a fixed port suits firewalls and network policies.
    /// </summary>
    [Range(0, 65535)]
    public int SiloPort { get; set; }

    /// <summary>
    /// The IP address the other silos reach this one on (cluster mode). Default: the first address the host name
    /// resolves to. Set it to the pod or host IP (or <c>127.0.0.1</c> for silos on one machine).
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>
    /// How long a silo waits for another's answer to a liveness probe before it counts as missed (cluster mode).
    /// 100 ms to 1 minute. Default 2 s.
    /// </summary>
    public TimeSpan ProbeTimeout { get; set; } = DefaultProbeTimeout;

    /// <summary>
    /// Probes a silo may miss in a row before its prober votes it dead (cluster mode). With the default 3 and 2 s, a
    /// killed silo is declared dead about 6 s after it died; its grains then activate on the survivors. 1 to 10. Default 3.
    /// </summary>
    [Range(1, 10)]
    public int MissedProbesLimit { get; set; } = DefaultMissedProbesLimit;

    /// <summary>The Orleans cluster and service id: silos with the same id in the same Redis form one cluster. Default <c>agent-gateway</c>.</summary>
    public string ClusterId { get; set; } = DefaultClusterId;

    /// <summary>A grain (session, conversation) that handled no call for this long is deactivated. 1 minute to 1 day. Default 10 minutes.</summary>
    public TimeSpan CollectionAge { get; set; } = DefaultCollectionAge;

    public bool IsRedis => string.Equals(Membership, Redis, StringComparison.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IsRedis && !string.Equals(Membership, Localhost, StringComparison.OrdinalIgnoreCase))
        {
            yield return new($"{SectionName}:{nameof(Membership)} '{Membership}' is unknown; known: {Localhost}, {Redis}.");
        }

        if (NodeId is not null && (NodeId.Length == 0 || NodeId.Any(char.IsControl)))
        {
            yield return new($"{SectionName}:{nameof(NodeId)} must be non-empty printable text (was '{NodeId}').");
        }

        if (AdvertisedAddress is not null && !IPAddress.TryParse(AdvertisedAddress, out _))
        {
            yield return new($"{SectionName}:{nameof(AdvertisedAddress)} must be an IP address (was '{AdvertisedAddress}').");
        }

        if (string.IsNullOrWhiteSpace(ClusterId) || ClusterId.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.')))
        {
            yield return new($"{SectionName}:{nameof(ClusterId)} must be letters, digits and - _ . (was '{ClusterId}').");
        }

        if (CollectionAge < TimeSpan.FromMinutes(1) || CollectionAge > TimeSpan.FromDays(1))
        {
            yield return new($"{SectionName}:{nameof(CollectionAge)} must be from 1 minute to 1 day (was {CollectionAge}).");
        }

        if (ProbeTimeout < TimeSpan.FromMilliseconds(100) || ProbeTimeout > TimeSpan.FromMinutes(1))
        {
            yield return new($"{SectionName}:{nameof(ProbeTimeout)} must be from 100 ms to 1 minute (was {ProbeTimeout}).");
        }
    }
}
