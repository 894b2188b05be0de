namespace AgentGateway.Contracts.Storage;

/// <summary>
/// Durable state with optimistic concurrency, one item per key: a write succeeds only if the stored version
/// is the one the writer read, so two activations of the same grain (on nodes that share the store but not a cluster) cannot both act on a stale view.
/// </summary>
public interface IVersionedStore<TState>
    where TState : class
{
    /// <summary>The stored state, or null when there is none.</summary>
    ValueTask<TState?> ReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="state"/> (which carries the new version, <paramref name="expectedVersion"/> + 1) if
    /// the stored version is still <paramref name="expectedVersion"/> (0: no item yet). False on a conflict.
    /// </summary>
    ValueTask<bool> TryWriteAsync(TState state, long expectedVersion, CancellationToken cancellationToken);
}
