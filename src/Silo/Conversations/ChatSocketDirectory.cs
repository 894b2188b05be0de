using System.Collections.Concurrent;
using AgentGateway.Contracts.Conversations;

namespace AgentGateway.Silo.Conversations;

/// <summary>
/// The chat sockets this node holds, by their observer's id, so a conversation grain on the same node reaches its
/// sockets directly instead of through Orleans messages: in order, with no message per token. A socket held by another
/// node is reached through its observer reference.
/// </summary>
public sealed class ChatSocketDirectory
{
    private readonly ConcurrentDictionary<GrainId, IChatSocket> _local = new();

    internal void Add(IChatSocket reference, IChatSocket socket) => _local[reference.GetGrainId()] = socket;

    internal void Remove(IChatSocket reference) => _local.TryRemove(reference.GetGrainId(), out _);

    /// <summary>The socket itself when it is on this node, else the reference (an Orleans observer call).</summary>
    public IChatSocket Resolve(IChatSocket reference) => _local.TryGetValue(reference.GetGrainId(), out var socket) ? socket : reference;
}
