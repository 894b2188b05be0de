using System.Collections.Concurrent;
using AgentGateway.Contracts.Cluster;

namespace AgentGateway.Providers.Storage;

/// <summary>The embedded default's registry: the nodes of this process (one, unless tests share it between nodes).</summary>
public sealed class InMemoryNodeRegistry : INodeRegistry
{
    private readonly ConcurrentDictionary<string, NodeRecord> _nodes = new(StringComparer.Ordinal);

    public Task UpsertAsync(NodeRecord node, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        _nodes[node.NodeId] = node;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<NodeRecord>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<NodeRecord>>([.. _nodes.Values.OrderBy(static n => n.NodeId, StringComparer.Ordinal)]);

    public Task RemoveAsync(string nodeId, CancellationToken cancellationToken = default)
    {
        _nodes.TryRemove(nodeId, out _);
        return Task.CompletedTask;
    }
}
