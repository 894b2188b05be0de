namespace AgentGateway.Contracts.Cluster;

/// <summary>
/// One gateway node as the registry knows it: written by the node itself at start and on every heartbeat.
/// </summary>
/// <param name="NodeId">Unique per process run (<c>Cluster:NodeId</c>, or host name + process id + start time).</param>
/// <param name="Address">Where the node can be reached (its advertised base URL), for operators.</param>
/// <param name="StartedAt">When the node started.</param>
/// <param name="HeartbeatAt">The node's clock at its last heartbeat.</param>
/// <param name="SessionActivations">Session actors active on the node at the heartbeat.</param>
/// <param name="BreakerActivations">Breaker actors active on the node at the heartbeat.</param>
/// <param name="Conversations">WebSocket conversations held by the node at the heartbeat.</param>
/// <param name="Sockets">WebSocket connections open on the node at the heartbeat.</param>
/// <param name="ExpiresAt">When the record may be deleted (a store's TTL attribute): heartbeat + the dead-after time.</param>
public sealed record NodeRecord(
    string NodeId,
    string Address,
    DateTimeOffset StartedAt,
    DateTimeOffset HeartbeatAt,
    int SessionActivations,
    int BreakerActivations,
    int Conversations,
    int Sockets,
    DateTimeOffset ExpiresAt);

/// <summary>
/// The cluster's nodes: each node registers and heartbeats; readers treat a node whose heartbeat is older than the
/// dead-after time as gone (stores may also delete expired records on their own, e.g. DynamoDB TTL).
/// </summary>
public interface INodeRegistry
{
    /// <summary>Inserts or replaces the node's record (its start and every heartbeat).</summary>
    Task UpsertAsync(NodeRecord node, CancellationToken cancellationToken = default);

    /// <summary>Every stored record, live or not, ordered by node id (ordinal).</summary>
    Task<IReadOnlyList<NodeRecord>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Removes the node's record (a clean stop); no error when there is none.</summary>
    Task RemoveAsync(string nodeId, CancellationToken cancellationToken = default);
}
