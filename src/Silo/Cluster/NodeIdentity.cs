namespace AgentGateway.Silo.Cluster;

/// <summary>This node's id (<c>Cluster:NodeId</c>, default <c>{host name}:{process id}</c>) and when it started, on the node's clock.</summary>
public sealed record NodeIdentity(string Id, DateTimeOffset StartedAt);
